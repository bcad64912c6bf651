/**
 * Secrets at rest: AES-256-GCM with a random 12-byte IV per value, and a keyed hash for comparing values
 * without decrypting them. Both keys are derived (HKDF) from one 32-byte master key, which comes from
 * KS_ISV_SECRET_KEY or a generated key file. Nothing here ever puts a key or a plaintext into a message.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

/** A sealed value could not be opened: wrong key, tampered data, or not a sealed value at all. */
export class SecretBoxError extends Error {
  override name = 'SecretBoxError';
}

export class SecretBox {
  readonly #encryptionKey: Buffer;
  readonly #hashKey: Buffer;

  constructor(masterKey: Uint8Array) {
    if (masterKey.length !== KEY_BYTES) throw new RangeError(`SecretBox needs a ${KEY_BYTES}-byte key`);
    this.#encryptionKey = derive(masterKey, 'ks-isv secret-box v1 aes-256-gcm');
    this.#hashKey = derive(masterKey, 'ks-isv secret-box v1 hmac-sha256');
  }

  /**
   * Encrypts `plaintext` as `v1:<iv>:<tag>:<ciphertext>` (base64url). `context` (e.g. the row's key) is
   * authenticated, not stored: a value copied into another row then fails to open.
   */
  seal(plaintext: string, context = ''): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#encryptionKey, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [VERSION, ...[iv, cipher.getAuthTag(), ciphertext].map((part) => part.toString('base64url'))].join(':');
  }

  /** Decrypts what `seal` produced with the same key and context; throws `SecretBoxError` otherwise. */
  open(sealed: string, context = ''): string {
    const parts = sealed.split(':');
    if (parts.length !== 4 || parts[0] !== VERSION) throw new SecretBoxError('a stored secret is not in the sealed v1 format');
    const [iv, tag, ciphertext] = parts.slice(1).map((part) => Buffer.from(part, 'base64url')) as [Buffer, Buffer, Buffer];
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new SecretBoxError('a stored secret is not in the sealed v1 format');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#encryptionKey, iv);
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretBoxError(
        'cannot decrypt a stored secret: the secret key (KS_ISV_SECRET_KEY or the key file) is not the one it was sealed with, or the data was altered',
      );
    }
  }

  /** HMAC-SHA256 hex of `value` under a derived key: equal values hash equal; the hash reveals nothing. */
  hash(value: string): string {
    return createHmac('sha256', this.#hashKey).update(value, 'utf8').digest('hex');
  }
}

function derive(masterKey: Uint8Array, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), purpose, KEY_BYTES));
}

// ---- The master key ---------------------------------------------------------------------------------------

export const DEFAULT_SECRET_KEY_FILE = './data/secret.key';

export interface LoadSecretKeyOptions {
  /** The value of KS_ISV_SECRET_KEY (base64 or hex of 32 bytes); when unset, the key file is used. */
  env?: string | undefined;
  /** Where the generated key lives (default `./data/secret.key`); created with mode 0600 when missing. */
  keyFile?: string;
}

/** The 32-byte master key: from the environment, else from the key file, else newly generated into it. */
export async function loadSecretKey(options: LoadSecretKeyOptions = {}): Promise<Buffer> {
  if (options.env !== undefined && options.env.trim() !== '') {
    const key = decodeKey(options.env);
    if (!key) throw new Error('KS_ISV_SECRET_KEY must be 32 random bytes, base64- or hex-encoded (e.g. `openssl rand -base64 32`)');
    return key;
  }
  const keyFile = options.keyFile ?? DEFAULT_SECRET_KEY_FILE;
  const existing = await readKeyFile(keyFile);
  if (existing) return existing;
  await mkdir(dirname(keyFile), { recursive: true, mode: 0o700 });
  // Written aside, then linked into place: the key file appears whole or not at all, and a link fails
  // when another instance created it first (then theirs is the key).
  const generated = randomBytes(KEY_BYTES);
  const staging = `${keyFile}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(staging, `${generated.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  try {
    await link(staging, keyFile);
    return generated;
  } catch (error) {
    const raced = isErrno(error, 'EEXIST') ? await readKeyFile(keyFile) : undefined;
    if (raced) return raced;
    throw error;
  } finally {
    await unlink(staging);
  }
}

async function readKeyFile(keyFile: string): Promise<Buffer | undefined> {
  let text: string;
  try {
    text = await readFile(keyFile, 'utf8');
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return undefined;
    throw error;
  }
  const key = decodeKey(text);
  if (!key) throw new Error(`the secret key file ${keyFile} does not hold a 32-byte key (base64 or hex); set KS_ISV_SECRET_KEY or restore the file`);
  return key;
}

function decodeKey(text: string): Buffer | undefined {
  const trimmed = text.trim();
  let key: Buffer | undefined;
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) key = Buffer.from(trimmed, 'hex');
  else if (/^[A-Za-z0-9+/]{43}=?$/.test(trimmed)) key = Buffer.from(trimmed, 'base64');
  else if (/^[A-Za-z0-9_-]{43}=?$/.test(trimmed)) key = Buffer.from(trimmed, 'base64url');
  return key?.length === KEY_BYTES ? key : undefined;
}

function isErrno(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}
