// The artifact store interface. Stores are content-addressed: an artifact is identified by the
// sha256 of its tarball, and its public URL is a pure function of that hash and a file name, so
// patched Artifacts.toml files (and thus patched tree hashes) are stable across syncs.

export interface ArtifactKey {
  sha256: string;
  /** File name shown in the URL (sanitised from the upstream URL's last segment). */
  fileName: string;
}

export interface ArtifactStore {
  readonly kind: string;
  /** Is this exact artifact already in the store (and complete, i.e. of `size` bytes when given)? */
  has(key: ArtifactKey, size?: number): Promise<boolean>;
  /** Upload/copy a verified local file. Must be atomic: clients never see a partial file. */
  put(file: string, key: ArtifactKey, size: number): Promise<void>;
  /** Removes what a killed run left half-copied (stores that stage files locally). */
  cleanup?(): Promise<void>;
  /** The URL written into patched Artifacts.toml files. */
  publicUrl(key: ArtifactKey): string;
  /**
   * publicUrl with the placeholders below in place of hash and name. Recorded at the first sync:
   * when it changes, every patched tree hash changes with it.
   */
  urlScheme(): string;
}

/** What `urlScheme()` shows in place of an artifact's sha256 and file name. */
export const URL_SCHEME_KEY: ArtifactKey = { sha256: '<sha256>', fileName: '<file>' };

/**
 * The file name an artifact is published under: the upstream URL's last path segment,
 * sanitised, so the extension (which tells 7z/tar the format) and a readable name survive.
 */
export function artifactFileName(url: string): string {
  let last = '';
  try {
    last = new URL(url).pathname.split('/').pop() ?? '';
  } catch {
    last = url.split(/[/?#]/).filter(Boolean).pop() ?? '';
  }
  try {
    last = decodeURIComponent(last);
  } catch {
    /* keep the raw segment */
  }
  const clean = last.replace(/[^A-Za-z0-9._+-]/g, '_').replace(/^[._+-]+/, '').replace(/\.\.+/g, '.').slice(0, 200);
  return clean || 'artifact.tar.gz';
}
