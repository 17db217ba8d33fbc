/** The session server's FactoryHub API (factoryhub_lab's handlers), same origin, same login. */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

export class ApiError extends Error {
  constructor(readonly status: number, message: string, readonly field: string | null = null) {
    super(message);
  }
  /** The service behind the session's server did not answer (as opposed to a refusal). */
  get unavailable(): boolean {
    return this.status >= 500;
  }
}

export async function requestAPI<T>(path: string, init: RequestInit = {}): Promise<T> {
  const settings = ServerConnection.makeSettings();
  const url = URLExt.join(settings.baseUrl, 'factoryhub', 'api', path);
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    throw new ApiError(503, `The session's server did not answer (${String(error)}).`);
  }
  // a service's answer is JSON; a proxy's error page may not be
  let body: { message?: string; field?: string | null } = {};
  try {
    body = await response.json();
  } catch {
    // keep the empty body: the status text says what went wrong
  }
  if (!response.ok) {
    throw new ApiError(response.status, body.message || response.statusText, body.field ?? null);
  }
  return body as T;
}

export interface SessionInfo {
  account: string | null;
  profile: string | null;
  job_id: string | null;
  gpus: number;
  price: number;
  walltime_end: number | null;
  remaining_seconds: number | null;
  cost_so_far_gpu_hours: number | null;
  cost_at_walltime_gpu_hours: number | null;
  now: number;
}

export interface Project {
  account: string;
  title: string;
  track: string;
  allocated_gpu_hours: number;
  used_gpu_hours: number;
  held_gpu_hours: number;
  remaining_gpu_hours: number;
  burn_gpu_hours_per_day: number;
  daily_usage: { day: string; gpu_hours: number }[];
}

export interface QuotaAnswer {
  projects: Project[];
  session: SessionInfo;
}
