package api

import (
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/contrib/instrumentation/github.com/gin-gonic/gin/otelgin"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Trace returns the middleware that makes each request's server span, with
// otelgin: named by the method and the route template ("GET /users/:id"),
// with the HTTP semantic conventions' attributes, and a child of the
// remote span named by the request's headers, read by prop — W3C trace
// context and baggage when prop is nil. Install it before Middleware's
// HandlerFunc, so that each request's transaction span (see
// MiddlewareConfig.Tracer) is a child of its server span, and a retried
// request remains one span. service names the server (otelgin's
// service). Trace returns nil when tp is nil or a no-op provider
// (db.TracingEnabled): install nothing then.
func Trace(tp trace.TracerProvider, prop propagation.TextMapPropagator, service string) gin.HandlerFunc {
	if !db.TracingEnabled(tp) {
		return nil
	}
	if prop == nil {
		prop = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
	}
	return otelgin.Middleware(service,
		otelgin.WithTracerProvider(tp),
		otelgin.WithPropagators(prop),
		// Request metrics are Metrics' (Prometheus): record none twice.
		otelgin.WithMeterProvider(metricnoop.NewMeterProvider()))
}
