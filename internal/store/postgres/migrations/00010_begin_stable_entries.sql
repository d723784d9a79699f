-- A webhook's statements carry ids derived from the delivery (connector,
-- event, checkbox), so a delivery processed again after a 503 or a crash
-- finds its statements already in the ledger: they are kept once, with
-- the first attempt's evidence, and their consent events keep their ids.

-- +goose Up
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION consentgate_begin_events(
    k_connector TEXT[], k_event_id TEXT[], now_at TIMESTAMPTZ, cutoff TIMESTAMPTZ,
    entries JSONB, subjects TEXT[]
) RETURNS TABLE (
    kind TEXT, connector TEXT, event_id TEXT,
    id TEXT, subject_key TEXT, purpose TEXT, status TEXT, method TEXT, platform TEXT,
    entry_connector TEXT, form TEXT, checkbox_key TEXT, notice_id TEXT, notice_version TEXT,
    obtained_at TIMESTAMPTZ, recorded_at TIMESTAMPTZ, expires_at TIMESTAMPTZ,
    payload_sha256 TEXT, request_id TEXT, seq BIGINT
) LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    won_c TEXT[];
    won_e TEXT[];
    new_ids TEXT[];
BEGIN
    -- Without statistics (a new ledger growing fast) the planner would
    -- scan the whole ledger for the consent read below.
    PERFORM set_config('enable_seqscan', 'off', true);

    WITH c AS (
        INSERT INTO seen_events AS s (connector, event_id, state, claimed_at)
        SELECT k.c, k.e, 'pending', now_at FROM unnest(k_connector, k_event_id) AS k(c, e)
        ON CONFLICT ON CONSTRAINT seen_events_pkey DO UPDATE SET claimed_at = excluded.claimed_at
        WHERE s.state = 'pending' AND s.claimed_at <= cutoff
        RETURNING s.connector, s.event_id
    )
    SELECT array_agg(c.connector), array_agg(c.event_id) INTO won_c, won_e FROM c;

    RETURN QUERY SELECT 'c'::TEXT, w.c, w.e, '', '', '', '', '', '', '', '', '', '', '',
        NULL::TIMESTAMPTZ, NULL::TIMESTAMPTZ, NULL::TIMESTAMPTZ, '', '', 0::BIGINT
        FROM unnest(won_c, won_e) AS w(c, e);

    IF won_c IS NULL THEN
        RETURN;
    END IF;

    WITH ins AS (
        INSERT INTO consent_ledger AS l (id, subject_key, purpose, status, method, platform, connector, form,
            checkbox_key, notice_id, notice_version, obtained_at, recorded_at, expires_at, payload_sha256, request_id)
        SELECT x.id, x.subject_key, x.purpose, x.status, x.method, x.platform, x.connector, x.form,
            x.checkbox_key, x.notice_id, x.notice_version, x.obtained_at, x.recorded_at, x.expires_at,
            x.payload_sha256, x.request_id
        FROM jsonb_to_recordset(entries) AS x(k INT, id TEXT, subject_key TEXT, purpose TEXT, status TEXT,
            method TEXT, platform TEXT, connector TEXT, form TEXT, checkbox_key TEXT, notice_id TEXT,
            notice_version TEXT, obtained_at TIMESTAMPTZ, recorded_at TIMESTAMPTZ, expires_at TIMESTAMPTZ,
            payload_sha256 TEXT, request_id TEXT)
        WHERE EXISTS (SELECT 1 FROM unnest(won_c, won_e) AS w(c, e)
            WHERE w.c = k_connector[x.k] AND w.e = k_event_id[x.k])
        -- A statement recorded by an earlier attempt at the same delivery
        -- (the same stable id) is not recorded again.
        ON CONFLICT (id) DO NOTHING
        RETURNING l.id
    )
    SELECT COALESCE(array_agg(ins.id), '{}') INTO new_ids FROM ins;

    -- The pick of consent_ledger_current's order (latest obtained_at, then
    -- recorded_at, then insertion), read along that index. Kind 'n' is an
    -- entry of this call: only its id comes back.
    RETURN QUERY WITH cur AS (
        SELECT DISTINCT ON (l.subject_key, l.purpose) l.*
        FROM consent_ledger AS l WHERE l.subject_key = ANY (subjects)
        ORDER BY l.subject_key, l.purpose, l.obtained_at DESC, l.recorded_at DESC, l.seq DESC
    )
    SELECT 'n'::TEXT, ''::TEXT, ''::TEXT, cur.id, '', '', '', '', '', '', '', '', '', '',
        NULL::TIMESTAMPTZ, NULL::TIMESTAMPTZ, NULL::TIMESTAMPTZ, '', '', cur.seq
        FROM cur WHERE cur.id = ANY (new_ids)
    UNION ALL
    SELECT 'l'::TEXT, ''::TEXT, ''::TEXT, cur.id, cur.subject_key, cur.purpose, cur.status, cur.method,
        cur.platform, cur.connector, cur.form, cur.checkbox_key, cur.notice_id, cur.notice_version,
        cur.obtained_at, cur.recorded_at, cur.expires_at, cur.payload_sha256, cur.request_id, cur.seq
        FROM cur WHERE cur.id <> ALL (new_ids);
END;
$$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION consentgate_begin_events(
    k_connector TEXT[], k_event_id TEXT[], now_at TIMESTAMPTZ, cutoff TIMESTAMPTZ,
    entries JSONB, subjects TEXT[]
) RETURNS TABLE (
    kind TEXT, connector TEXT, event_id TEXT,
    id TEXT, subject_key TEXT, purpose TEXT, status TEXT, method TEXT, platform TEXT,
    entry_connector TEXT, form TEXT, checkbox_key TEXT, notice_id TEXT, notice_version TEXT,
    obtained_at TIMESTAMPTZ, recorded_at TIMESTAMPTZ, expires_at TIMESTAMPTZ,
    payload_sha256 TEXT, request_id TEXT, seq BIGINT
) LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    won_c TEXT[];
    won_e TEXT[];
    new_ids TEXT[];
BEGIN
    -- Without statistics (a new ledger growing fast) the planner would
    -- scan the whole ledger for the consent read below.
    PERFORM set_config('enable_seqscan', 'off', true);

    WITH c AS (
        INSERT INTO seen_events AS s (connector, event_id, state, claimed_at)
        SELECT k.c, k.e, 'pending', now_at FROM unnest(k_connector, k_event_id) AS k(c, e)
        ON CONFLICT ON CONSTRAINT seen_events_pkey DO UPDATE SET claimed_at = excluded.claimed_at
        WHERE s.state = 'pending' AND s.claimed_at <= cutoff
        RETURNING s.connector, s.event_id
    )
    SELECT array_agg(c.connector), array_agg(c.event_id) INTO won_c, won_e FROM c;

    RETURN QUERY SELECT 'c'::TEXT, w.c, w.e, '', '', '', '', '', '', '', '', '', '', '',
        NULL::TIMESTAMPTZ, NULL::TIMESTAMPTZ, NULL::TIMESTAMPTZ, '', '', 0::BIGINT
        FROM unnest(won_c, won_e) AS w(c, e);

    IF won_c IS NULL THEN
        RETURN;
    END IF;

    WITH ins AS (
        INSERT INTO consent_ledger AS l (id, subject_key, purpose, status, method, platform, connector, form,
            checkbox_key, notice_id, notice_version, obtained_at, recorded_at, expires_at, payload_sha256, request_id)
        SELECT x.id, x.subject_key, x.purpose, x.status, x.method, x.platform, x.connector, x.form,
            x.checkbox_key, x.notice_id, x.notice_version, x.obtained_at, x.recorded_at, x.expires_at,
            x.payload_sha256, x.request_id
        FROM jsonb_to_recordset(entries) AS x(k INT, id TEXT, subject_key TEXT, purpose TEXT, status TEXT,
            method TEXT, platform TEXT, connector TEXT, form TEXT, checkbox_key TEXT, notice_id TEXT,
            notice_version TEXT, obtained_at TIMESTAMPTZ, recorded_at TIMESTAMPTZ, expires_at TIMESTAMPTZ,
            payload_sha256 TEXT, request_id TEXT)
        WHERE EXISTS (SELECT 1 FROM unnest(won_c, won_e) AS w(c, e)
            WHERE w.c = k_connector[x.k] AND w.e = k_event_id[x.k])
        RETURNING l.id
    )
    SELECT COALESCE(array_agg(ins.id), '{}') INTO new_ids FROM ins;

    -- The pick of consent_ledger_current's order (latest obtained_at, then
    -- recorded_at, then insertion), read along that index. Kind 'n' is an
    -- entry of this call: only its id comes back.
    RETURN QUERY WITH cur AS (
        SELECT DISTINCT ON (l.subject_key, l.purpose) l.*
        FROM consent_ledger AS l WHERE l.subject_key = ANY (subjects)
        ORDER BY l.subject_key, l.purpose, l.obtained_at DESC, l.recorded_at DESC, l.seq DESC
    )
    SELECT 'n'::TEXT, ''::TEXT, ''::TEXT, cur.id, '', '', '', '', '', '', '', '', '', '',
        NULL::TIMESTAMPTZ, NULL::TIMESTAMPTZ, NULL::TIMESTAMPTZ, '', '', cur.seq
        FROM cur WHERE cur.id = ANY (new_ids)
    UNION ALL
    SELECT 'l'::TEXT, ''::TEXT, ''::TEXT, cur.id, cur.subject_key, cur.purpose, cur.status, cur.method,
        cur.platform, cur.connector, cur.form, cur.checkbox_key, cur.notice_id, cur.notice_version,
        cur.obtained_at, cur.recorded_at, cur.expires_at, cur.payload_sha256, cur.request_id, cur.seq
        FROM cur WHERE cur.id <> ALL (new_ids);
END;
$$;
-- +goose StatementEnd
