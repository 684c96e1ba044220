// The connected side often reaches upstream only through a proxy. git honours http_proxy by
// itself; undici does not, so artifact downloads get an EnvHttpProxyAgent when one is set.

import { EnvHttpProxyAgent, type Dispatcher } from 'undici';

const PROXY_VARS = ['http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY'] as const;

export function proxyDispatcher(env: NodeJS.ProcessEnv): Dispatcher | undefined {
  if (!PROXY_VARS.some((k) => env[k])) return undefined;
  // lower-case variables win, as with curl and git
  return new EnvHttpProxyAgent({
    httpProxy: env.http_proxy ?? env.HTTP_PROXY,
    httpsProxy: env.https_proxy ?? env.HTTPS_PROXY ?? env.http_proxy ?? env.HTTP_PROXY,
    noProxy: env.no_proxy ?? env.NO_PROXY,
  });
}
