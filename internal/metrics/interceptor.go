package metrics

import (
	"context"
	"time"

	"connectrpc.com/connect"
)

// Interceptor counts and times every RPC the server handles by procedure
// and Connect code. Put it outside the other interceptors so refusals
// (the gate's, validation's, authentication's) are counted too. Clients
// built with it are not instrumented.
func (m *Metrics) Interceptor() connect.Interceptor { return interceptor{m} }

type interceptor struct{ m *Metrics }

func (i interceptor) observe(procedure string, start time.Time, err error) {
	code := "ok"
	if err != nil {
		code = connect.CodeOf(err).String()
		i.m.rpcErrors.WithLabelValues(procedure, code).Inc()
	}
	i.m.rpcRequests.WithLabelValues(procedure, code).Inc()
	i.m.rpcDuration.WithLabelValues(procedure, code).Observe(time.Since(start).Seconds())
}

func (i interceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		if req.Spec().IsClient {
			return next(ctx, req)
		}
		start := time.Now()
		res, err := next(ctx, req)
		i.observe(req.Spec().Procedure, start, err)
		return res, err
	}
}

func (i interceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (i interceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		start := time.Now()
		err := next(ctx, conn)
		i.observe(conn.Spec().Procedure, start, err)
		return err
	}
}
