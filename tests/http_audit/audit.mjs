// Runs graphql-http's server audits (the GraphQL over HTTP spec's
// conformance checks) against a running Fulexo and prints one JSON line per
// audit: {"id", "name", "status": "ok" | "warn" | "error", "reason"}.
//
// Usage: node audit.mjs <graphql url> <bearer token>
// Every request carries the token: without one the service answers 401.
import { auditServer } from 'graphql-http';

const [url, token] = process.argv.slice(2);
if (!url || !token) {
  console.error('usage: node audit.mjs <graphql url> <bearer token>');
  process.exit(2);
}

const fetchFn = (input, init = {}) => {
  const headers = new Headers(init.headers);
  headers.set("authorization", `Bearer ${token}`);
  return fetch(input, { ...init, headers });
};

const results = await auditServer({ url, fetchFn });
for (const result of results) {
  console.log(
    JSON.stringify({
      id: result.id,
      name: result.name,
      status: result.status,
      reason: result.status === 'ok' ? undefined : result.reason,
    }),
  );
}
