# Build a static consentgate binary and run it as an unprivileged user.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=docker
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/consentgate ./cmd/consentgate

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/consentgate /usr/local/bin/consentgate
COPY configs /etc/consentgate
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/consentgate"]
CMD ["serve", "--config", "/etc/consentgate/consentgate.yaml"]
