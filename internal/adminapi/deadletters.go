package adminapi

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/consentgate/consentgate/internal/httpapi"
	"github.com/consentgate/consentgate/internal/store"
)

// deadLetterRoutes: fetch jobs that failed for good (DESIGN.md §1),
// listed with their reason, retried or discarded by an operator.
var deadLetterRoutes = []Route{
	{http.MethodGet, "/deadletters", []Role{RoleMarketer, RoleAuditor}, func(a *API) gin.HandlerFunc { return a.listDeadLetters }},
	{http.MethodPost, "/deadletters/:id/retry", []Role{RoleMarketer}, func(a *API) gin.HandlerFunc { return a.retryDeadLetter }},
	{http.MethodDelete, "/deadletters/:id", []Role{RoleMarketer}, func(a *API) gin.HandlerFunc { return a.discardDeadLetter }},
}

const maxDeadLettersPage = 1000

func (a *API) listDeadLetters(c *gin.Context) {
	limit, errs := queryLimit(c, 100, maxDeadLettersPage)
	if len(errs) > 0 {
		writeInvalidFields(c, errs)
		return
	}
	jobs, err := a.d.Store.ListJobs(c.Request.Context(), store.JobDeadLetter, limit)
	if err != nil {
		a.internalError(c, "list dead letters", err)
		return
	}
	if jobs == nil {
		jobs = []store.Job{}
	}
	c.JSON(http.StatusOK, gin.H{"jobs": jobs})
}

func jobID(c *gin.Context) (int64, bool) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		writeInvalidFields(c, fieldErrors{"id": "must be a job id (a positive whole number)"})
		return 0, false
	}
	return id, true
}

// jobError answers the store's sentinels for a job operation.
func (a *API) jobError(c *gin.Context, doing string, err error) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		httpapi.WriteError(c, http.StatusNotFound, "not_found", "no fetch job with this id")
	case errors.Is(err, store.ErrConflict):
		httpapi.WriteError(c, http.StatusConflict, "conflict", "the job is not dead-lettered (it is pending or done)")
	default:
		a.internalError(c, doing, err)
	}
}

func (a *API) retryDeadLetter(c *gin.Context) {
	id, ok := jobID(c)
	if !ok {
		return
	}
	if err := a.d.Store.RequeueJob(c.Request.Context(), id, a.d.Now()); err != nil {
		a.jobError(c, "retry the job", err)
		return
	}
	a.audit(c, "deadletter.retry", strconv.FormatInt(id, 10), nil)
	c.Status(http.StatusNoContent)
}

func (a *API) discardDeadLetter(c *gin.Context) {
	id, ok := jobID(c)
	if !ok {
		return
	}
	if err := a.d.Store.DiscardJob(c.Request.Context(), id); err != nil {
		a.jobError(c, "discard the job", err)
		return
	}
	a.audit(c, "deadletter.discard", strconv.FormatInt(id, 10), nil)
	c.Status(http.StatusNoContent)
}

// parkedRoutes: outbox messages Kafka refused for good (unknown topic,
// not authorized, too large), listed without their record and requeued
// once the cause is fixed (docs/reliability.md).
var parkedRoutes = []Route{
	{http.MethodGet, "/outbox/parked", []Role{RoleMarketer, RoleAuditor}, func(a *API) gin.HandlerFunc { return a.listParked }},
	{http.MethodPost, "/outbox/parked/requeue", []Role{RoleMarketer}, func(a *API) gin.HandlerFunc { return a.requeueParked }},
}

func (a *API) listParked(c *gin.Context) {
	limit, errs := queryLimit(c, 100, maxDeadLettersPage)
	if len(errs) > 0 {
		writeInvalidFields(c, errs)
		return
	}
	msgs, err := a.d.Store.ListParkedOutbox(c.Request.Context(), limit)
	if err != nil {
		a.internalError(c, "list parked outbox messages", err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"messages": msgs})
}

// requeueParked returns the messages named by ids, or every parked one
// when ids is left out, to the relay's queue.
func (a *API) requeueParked(c *gin.Context) {
	var req struct {
		IDs []int64 `json:"ids"`
	}
	if _, ok := readStrictJSON(c, &req, 1<<20); !ok {
		return
	}
	for _, id := range req.IDs {
		if id <= 0 {
			writeInvalidFields(c, fieldErrors{"ids": "must be outbox message ids (positive whole numbers), or left out for every parked message"})
			return
		}
	}
	n, err := a.d.Store.RequeueOutbox(c.Request.Context(), req.IDs)
	if err != nil {
		a.internalError(c, "requeue parked outbox messages", err)
		return
	}
	a.audit(c, "outbox.requeue", "", map[string]string{"requested": strconv.Itoa(len(req.IDs)), "requeued": strconv.FormatInt(n, 10)})
	c.JSON(http.StatusOK, gin.H{"requeued": n})
}
