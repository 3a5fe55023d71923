/**
 * The OpenAPI 3.1 document, generated at first request from the route table: every /api/v1 route's method, path
 * parameters, summary, tags, required role (x-role) and request body come from its `access(...)` declaration, so
 * the document cannot drift from the routes. Served from the binary at /api/v1/openapi.json.
 */
import { Elysia } from "elysia";
import type { HttpEnv } from "../env.ts";
import { access } from "../route-policy.ts";
import { VERSION } from "../../version.ts";

const ERROR_STATUSES: Record<string, string> = {
  "400": "Malformed request",
  "401": "Authentication required",
  "403": "Not allowed for this role, cross-site, or address blocked",
  "404": "Not found",
  "409": "Conflict with the current state",
  "422": "Validation failed (see error.fields)",
  "429": "Too many requests",
  "503": "Not available (control plane part missing, or database down)",
};

export function buildOpenApi(env: HttpEnv): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of env.policy.list()) {
    if (!r.path.startsWith("/api/v1/") || !r.meta) continue;
    const path = r.path.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
    const params = [...r.path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => ({ name: m[1], in: "path", required: true, schema: { type: "string" } }));
    const role = r.meta["x-role"];
    const ok = r.method === "POST" ? { "200": { description: "OK" }, "201": { description: "Created" }, "202": { description: "Accepted (job started)" } } : r.method === "DELETE" ? { "204": { description: "Done" } } : { "200": { description: "OK" } };
    const responses: Record<string, unknown> = { ...ok };
    for (const [code, description] of Object.entries(ERROR_STATUSES)) {
      responses[code] = { description, content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } };
    }
    (paths[path] ??= {})[r.method.toLowerCase()] = {
      summary: r.meta.summary,
      tags: r.meta.tags,
      "x-role": role,
      ...(params.length ? { parameters: params } : {}),
      ...(r.meta.requestBody ? { requestBody: r.meta.requestBody } : {}),
      security: role === "public" ? [] : [{ bearerAuth: [] }, { sessionCookie: [] }],
      responses,
    };
  }
  return {
    openapi: "3.1.0",
    info: { title: "lteproxy API", version: VERSION, description: "One proxy port per LTE modem. Errors: { error: { code, message, fields? } }." },
    servers: [{ url: "/" }],
    paths,
    components: {
      securitySchemes: {
        bearerAuth: { type: "http", scheme: "bearer", description: "API key lpk_<prefix>_<secret> (created by an admin, shown once)" },
        sessionCookie: { type: "apiKey", in: "cookie", name: "lteproxy_session", description: "Panel session; state-changing requests also need same-origin + HX-Request" },
      },
      schemas: {
        Error: {
          type: "object",
          required: ["error"],
          properties: {
            error: {
              type: "object",
              required: ["code", "message"],
              properties: { code: { type: "string" }, message: { type: "string" }, fields: { type: "object", additionalProperties: { type: "string" } } },
            },
          },
        },
      },
    },
  };
}

export function openApiPlugin(env: HttpEnv) {
  let cached: string | null = null;
  return new Elysia({ name: "openapi" }).get("/api/v1/openapi.json", () => {
    cached ??= JSON.stringify(buildOpenApi(env));
    return new Response(cached, { headers: { "content-type": "application/json; charset=utf-8", "cache-control": "public, max-age=300" } });
  }, access("public", "This OpenAPI document", { tags: ["meta"] }));
}
