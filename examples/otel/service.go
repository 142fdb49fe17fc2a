package main

import (
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// shop is the instrumented service: a tiny HTTP API whose code knows only
// the OpenTelemetry metrics API. Where the numbers go (Librato here) is
// decided by whoever hands it a Meter.
type shop struct {
	requests metric.Int64Counter       // shop.requests: requests served, by route and status
	inFlight metric.Int64UpDownCounter // shop.in_flight: requests being served now
	duration metric.Float64Histogram   // shop.request.duration: how long each took, in ms
	queue    metric.Int64Gauge         // shop.queue.length: orders waiting, sampled per order

	mu     sync.Mutex
	orders int
}

func newShop(meter metric.Meter) (*shop, error) {
	s := &shop{}
	var err, e error
	s.requests, e = meter.Int64Counter("shop.requests", metric.WithDescription("HTTP requests served"), metric.WithUnit("{request}"))
	err = errors.Join(err, e)
	s.inFlight, e = meter.Int64UpDownCounter("shop.in_flight", metric.WithDescription("HTTP requests being served"), metric.WithUnit("{request}"))
	err = errors.Join(err, e)
	s.duration, e = meter.Float64Histogram("shop.request.duration", metric.WithDescription("HTTP request duration"), metric.WithUnit("ms"))
	err = errors.Join(err, e)
	s.queue, e = meter.Int64Gauge("shop.queue.length", metric.WithDescription("orders waiting to be packed"), metric.WithUnit("{order}"))
	err = errors.Join(err, e)
	if err != nil {
		return nil, fmt.Errorf("creating the instruments: %w", err)
	}
	return s, nil
}

// routes serves /cart, /order and /pack. Every request is counted, timed
// and tracked while in flight by the middleware.
func (s *shop) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /cart", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(2 * time.Millisecond) // look the cart up
		fmt.Fprintln(w, "cart: 2 items")
	})
	mux.HandleFunc("POST /order", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.orders++
		n := s.orders
		s.mu.Unlock()
		s.queue.Record(r.Context(), int64(n))
		w.WriteHeader(http.StatusCreated)
	})
	mux.HandleFunc("POST /pack", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.orders == 0 {
			http.Error(w, "nothing to pack", http.StatusConflict)
			return
		}
		s.orders--
		s.queue.Record(r.Context(), int64(s.orders))
		w.WriteHeader(http.StatusNoContent)
	})
	return s.instrument(mux)
}

// instrument wraps next with the request metrics.
func (s *shop) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		route := attribute.String("http.route", r.URL.Path)
		s.inFlight.Add(ctx, 1, metric.WithAttributes(route))
		began := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		attrs := metric.WithAttributes(route, attribute.Int("http.response.status_code", rec.status))
		s.duration.Record(ctx, float64(time.Since(began).Microseconds())/1000, attrs)
		s.requests.Add(ctx, 1, attrs)
		s.inFlight.Add(ctx, -1, metric.WithAttributes(route))
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}
