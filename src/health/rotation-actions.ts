/**
 * Puts the rotation service behind the panel's and API's modem actions (src/http/context.ts ModemActions, made by
 * src/jobs/modem-actions.ts): `rotate` becomes a rotation job (unique-IP guarantee, rotations row, join), every
 * other action goes to the wrapped object unchanged, and job status looks at rotations first.
 *
 *   const actions = routeRotations(createModemActions({ sql, nodeId, manager }), rotation);
 *
 * Typed structurally so that src/health does not import src/http.
 */
import type { RotationMethod, RotationTrigger } from "../db/queries/rotations.ts";
import type { RotationJobStatus, RotationService } from "./rotation.ts";

export interface ActionsLike {
  request(modemId: number, action: string, actor: { username: string; via: string }, opts?: { method?: RotationMethod; trigger?: string }): Promise<{ jobId: string }>;
  job?(jobId: string): Promise<unknown>;
}

/** rotations.trigger of a panel/API request: the secure link says "link", the API "api", the panel "manual". */
export function triggerOf(actor: { via: string }, trigger?: string): RotationTrigger {
  if (actor.via === "link" || trigger === "link") return "link";
  return trigger === "api" ? "api" : "manual";
}

export function routeRotations<T extends ActionsLike>(base: T, rotation: Pick<RotationService, "request" | "jobStatus">): T {
  return {
    ...base,
    async request(modemId: number, action: string, actor: { username: string; via: string }, opts?: { method?: RotationMethod; trigger?: string }) {
      if (action !== "rotate") return base.request(modemId, action, actor, opts);
      const { jobId } = await rotation.request(modemId, {
        method: opts?.method ?? null, trigger: triggerOf(actor, opts?.trigger), requestedBy: actor.username,
      });
      return { jobId };
    },
    async job(jobId: string): Promise<RotationJobStatus | unknown> {
      return (await rotation.jobStatus(jobId)) ?? (await base.job?.(jobId)) ?? null;
    },
  } as T;
}
