package fxmodules

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"go.opentelemetry.io/contrib/exporters/autoexport"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/fx"
)

// Tracing chooses the OpenTelemetry TracerProvider that FastTrack's spans
// go to — the request's server span (api.Trace), its transaction's span
// and its statements' (db.Tracer) — and installs them: RequestScope and
// HTTP use it when it is in the application (Framework has it).
//
// The provider is the application's when it provides a
// trace.TracerProvider to Fx; the application then owns it and shuts it
// down. Otherwise Tracing builds one from the standard OTEL_* environment
// variables, and tracing is off unless they ask for it: with
// OTEL_TRACES_EXPORTER set to an exporter other than "none" ("otlp",
// "console"), or with OTEL_EXPORTER_OTLP_ENDPOINT or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT set (OTLP then), it builds an SDK
// provider whose exporter is autoexport's — OTEL_EXPORTER_OTLP_PROTOCOL,
// headers and timeouts apply — whose resource reads OTEL_SERVICE_NAME and
// OTEL_RESOURCE_ATTRIBUTES, whose sampler reads OTEL_TRACES_SAMPLER and
// OTEL_TRACES_SAMPLER_ARG, and whose batching reads OTEL_BSP_*.
// OTEL_SDK_DISABLED=true turns it off whatever else is set. Off, nothing
// is installed: no server span, no transaction or statement span.
// Incoming W3C trace context (traceparent) and baggage are honoured.
//
// The provider Tracing builds shuts down — exporting the spans it still
// holds — when the application stops, after every hook added after it:
// Framework adds Tracing first, so that it shuts down last, after the HTTP
// server drained and the pool closed. Give it to fx.New before the
// application's own modules when not using Framework.
func Tracing() fx.Option {
	return fx.Module("fasttrack.tracing",
		fx.Provide(newTracing),
		// Built at once, before anything that adds a stop hook, so that the
		// provider shuts down last.
		fx.Invoke(func(*tracing) {}),
	)
}

// tracing is the provider FastTrack's spans go to, and how incoming trace
// context is read.
type tracing struct {
	provider   trace.TracerProvider // nil when tracing is off
	propagator propagation.TextMapPropagator
}

type tracingIn struct {
	fx.In
	Lifecycle fx.Lifecycle
	Logger    *slog.Logger         `optional:"true"`
	App       trace.TracerProvider `optional:"true"`
}

func newTracing(in tracingIn) (*tracing, error) {
	t := &tracing{propagator: propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})}
	if in.App != nil {
		t.provider = in.App
		return t, nil
	}
	if !tracesRequested(os.Getenv) {
		return t, nil
	}
	exp, err := autoexport.NewSpanExporter(context.Background())
	if err != nil {
		return nil, fmt.Errorf("fasttrack: tracing: the OTEL_* exporter: %w", err)
	}
	if autoexport.IsNoneSpanExporter(exp) {
		return t, nil
	}
	// resource.Default reads OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES.
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(resource.Default()))
	t.provider = tp
	log := in.Logger
	if log == nil {
		log = slog.Default()
	}
	in.Lifecycle.Append(fx.StopHook(func(ctx context.Context) error {
		if err := tp.Shutdown(ctx); err != nil {
			return fmt.Errorf("fasttrack: tracing: shutting down the tracer provider: %w", err)
		}
		log.Info("tracing shut down")
		return nil
	}))
	return t, nil
}

// tracesRequested reports whether the OTEL_* variables read by getenv ask
// for traces: an exporter other than "none", or an OTLP endpoint, and the
// SDK not disabled.
func tracesRequested(getenv func(string) string) bool {
	if strings.EqualFold(strings.TrimSpace(getenv("OTEL_SDK_DISABLED")), "true") {
		return false
	}
	if e := strings.TrimSpace(getenv("OTEL_TRACES_EXPORTER")); e != "" {
		return !strings.EqualFold(e, "none")
	}
	return getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}
