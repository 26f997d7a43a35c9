// Test helpers: a real Connect transport over an in-memory router (the
// generated service descriptors, real serialization), errors shaped as the
// server sends them, and a render wrapped in the portal's providers.
import type { ReactElement } from "react";
import { render } from "@testing-library/react";
import { Code, ConnectError, type Transport } from "@connectrpc/connect";
import { TransportProvider } from "@connectrpc/connect-query";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { BinaryWriter } from "@bufbuild/protobuf/wire";

/** errorInfo encodes a google.rpc.ErrorInfo with the cosync.auth domain. */
export function errorInfo(reason: string): Uint8Array {
  return new BinaryWriter().uint32((1 << 3) | 2).string(reason).uint32((2 << 3) | 2).string("cosync.auth").finish();
}

/** badRequest encodes a google.rpc.BadRequest with the given field violations. */
export function badRequest(fields: Record<string, string>): Uint8Array {
  const w = new BinaryWriter();
  for (const [field, description] of Object.entries(fields)) {
    w.uint32((1 << 3) | 2).fork().uint32((1 << 3) | 2).string(field).uint32((2 << 3) | 2).string(description).join();
  }
  return w.finish();
}

/** serverError is a ConnectError as internal/rpc builds it: a code, an ErrorInfo reason, and field violations. */
export function serverError(code: Code, reason: string, fields: Record<string, string> = {}): ConnectError {
  const err = new ConnectError(`server message for ${reason}`, code);
  err.details.push({ type: "google.rpc.ErrorInfo", value: errorInfo(reason) });
  if (Object.keys(fields).length) err.details.push({ type: "google.rpc.BadRequest", value: badRequest(fields) });
  return err;
}

/** renderWith renders ui with transport and a fresh query client that never retries. */
export function renderWith(ui: ReactElement, transport: Transport) {
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } });
  return render(
    <TransportProvider transport={transport}>
      <QueryClientProvider client={qc}>{ui}</QueryClientProvider>
    </TransportProvider>,
  );
}
