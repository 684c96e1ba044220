// The error mapping and existence probe both forge package stores use: a 401/403 names the
// credential and the scope it needs and (401) stops every later call, since GitLab bans an
// address after repeated failed logins; anything else names the URL and the HTTP status.

import { PublishError, redactUrl } from '../errors.js';
import { authHint, type AuthLatch } from './auth.js';
import { firstLine } from './http.js';
import type { ArtifactKey } from './store.js';
import { probeSays, probeSize, type HeadersFor, type HttpOptions, type Probe } from './upload.js';

export interface ForgeCalls {
  fail(target: string, status: number, text: string, what: string): never;
  look(key: ArtifactKey, size: number | undefined): Promise<{ probe: Probe; says: ReturnType<typeof probeSays> }>;
}

export function forgeCalls(o: { latch: AuthLatch; who: string; scope: string; apiUrl: (key: ArtifactKey) => string; headersFor: HeadersFor; http: HttpOptions }): ForgeCalls {
  const fail = (target: string, status: number, text: string, what: string): never => {
    const msg = status === 401 || status === 403 ? authHint(status, o.who, o.scope) : `${what} answered HTTP ${status}${text ? `: ${firstLine(text)}` : ''}`;
    const err = new PublishError(redactUrl(target), msg);
    if (status === 401) o.latch.trip(err);
    throw err;
  };
  const look: ForgeCalls['look'] = async (key, size) => {
    o.latch.check();
    const probe = await probeSize('GET', o.apiUrl(key), o.headersFor, o.http);
    const says = probeSays(probe, size);
    if (says === 'error') fail(o.apiUrl(key), probe.status, probe.text, 'GET');
    return { probe, says };
  };
  return { fail, look };
}
