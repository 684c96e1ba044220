// The URL scheme each store records at the first sync, and compatibility with states written
// before the scheme was recorded (they hold only the `dir` store's base URL).

import { describe, expect, it } from 'vitest';
import { makeStore } from '../../src/stores/index.js';
import { emptyState, recordedUrlScheme } from '../../src/sync/state.js';

const env = { T: 'secret-token-value' };

describe('artifact URL schemes', () => {
  it('an old state (artifactsBaseUrl only) reads as the dir scheme of that base, so upgrading refuses nothing', () => {
    const dir = makeStore({ kind: 'dir', path: '/tmp/unused-airgap-store', url: 'http://mirror.internal:8080/artifacts' }, 'airgap.toml');
    expect(recordedUrlScheme({ ...emptyState(), artifactsBaseUrl: 'http://mirror.internal:8080/artifacts' })).toBe(dir.urlScheme());
    expect(recordedUrlScheme({ ...emptyState(), artifactsBaseUrl: 'http://other/artifacts' })).not.toBe(dir.urlScheme());
    expect(recordedUrlScheme(emptyState())).toBeUndefined();
  });

  it('the recorded scheme wins over the old key', () => {
    expect(recordedUrlScheme({ ...emptyState(), artifactsBaseUrl: 'http://a', artifactsUrlScheme: 'http://b/<sha256>/<file>' })).toBe('http://b/<sha256>/<file>');
  });

  it('moving from dir to http at the same public URL keeps the scheme (no re-patch needed)', () => {
    const url = 'http://mirror.internal/artifacts';
    const dir = makeStore({ kind: 'dir', path: '/tmp/unused-airgap-store', url }, 'airgap.toml');
    const http = makeStore({ kind: 'http', url, uploadUrl: 'http://upload.internal/dav' }, 'airgap.toml', { env });
    expect(http.urlScheme()).toBe(dir.urlScheme());
  });

  it('each forge scheme is publicUrl with placeholders, and names no secret', () => {
    const sha256 = 'a'.repeat(64);
    const fileName = 'x.tar.gz';
    const stores = [
      makeStore({ kind: 'gitea', url: 'https://gitea.internal', owner: 'julia', tokenEnv: 'T' }, 'airgap.toml', { env }),
      makeStore({ kind: 'gitlab', url: 'https://gitlab.internal', project: 'infra/mirror', tokenEnv: 'T', packageName: 'jl' }, 'airgap.toml', { env }),
    ];
    for (const s of stores) {
      expect(s.urlScheme().replace('<sha256>', sha256).replace('<file>', fileName)).toBe(s.publicUrl({ sha256, fileName }));
      expect(s.urlScheme()).not.toContain(env.T);
    }
  });
});
