// One entry point from a cluster's recordings URL to a storage backend.
import { fileURLToPath } from 'node:url';
import { FileStorage, type FileStorageOptions } from './file.js';
import { SftpStorage, type SftpCredentials } from './sftp.js';
import type { RecordingStorage } from './types.js';

/** What the caller unseals for a storage: secrets, and the SFTP host key to pin. */
export interface StorageCredentials extends SftpCredentials {
  /** "SHA256:..." of the SFTP server's host key; may also be given as ?hostkey= in the URL */
  hostKeySha256?: string;
}

/**
 * `file:///var/bigbluebutton/published` or `sftp://user@host:port/var/bigbluebutton/published`.
 * Errors never repeat the URL's password or the credentials.
 */
export function openStorage(url: string, credentials: StorageCredentials = {}, fileOptions: FileStorageOptions = {}): RecordingStorage {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error('storage URL is not a valid URL (expected file:///dir or sftp://user@host:port/dir)');
  }
  if (u.protocol === 'file:') {
    if (u.host !== '' && u.host !== 'localhost') throw new Error(`file storage URL must name a local directory, not host ${u.host}`);
    return new FileStorage(fileURLToPath(u), fileOptions);
  }
  if (u.protocol === 'sftp:') {
    if (u.password) throw new Error('sftp storage URL must not contain a password: pass it in the credentials');
    if (!u.username) throw new Error('sftp storage URL needs a user: sftp://user@host/dir');
    // URLSearchParams reads '+' as a space; base64 fingerprints contain '+'.
    const fromQuery = u.searchParams.get('hostkey')?.replace(/ /g, '+');
    return new SftpStorage({
      host: u.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: u.port ? Number(u.port) : 22,
      username: decodeURIComponent(u.username),
      root: decodeURIComponent(u.pathname) || '/',
      hostKeySha256: credentials.hostKeySha256 ?? fromQuery ?? '',
      password: credentials.password,
      privateKey: credentials.privateKey,
      passphrase: credentials.passphrase,
    });
  }
  throw new Error(`unsupported storage URL scheme ${u.protocol} (expected file: or sftp:)`);
}
