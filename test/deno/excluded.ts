// shared/ tests that do not run on Deno, by full name ("describe > test"), each with the reason.
// The shim registers them as ignored, so Deno's summary counts them ("N ignored") instead of hiding them.

const OPENSSL_CODES = "asserts OpenSSL's error code from node:tls; Deno's node:tls (rustls) refuses the same certificate but reports it differently";

export const EXCLUDED_ON_DENO: ReadonlyMap<string, string> = new Map([
  // Received on Deno: serverError "ECONNRESET" (the handshake is still refused: no peer id, no reply).
  ["mTLS with workload credentials > a client certificate from another CA is refused", OPENSSL_CODES],
  ["mTLS with workload credentials > an expired client certificate is refused", OPENSSL_CODES],
  // Received on Deno: clientError "UNABLE_TO_VERIFY_LEAF_SIGNATURE".
  ["mTLS with workload credentials > the client refuses a server whose certificate is from another CA", OPENSSL_CODES],
]);
