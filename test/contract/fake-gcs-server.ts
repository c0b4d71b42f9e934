/**
 * A minimal in-memory fake of the Google Cloud Storage JSON API, for tests only.
 *
 * No GCS emulator is installed in node_modules and the tests may not reach the network, so this
 * implements just the endpoints @google-cloud/storage calls for the artifact store, following the
 * public API reference: object metadata get, media download (with x-goog-hash so the client's
 * CRC32C/MD5 validation runs), paged listing (nextPageToken), delete, multipart upload and
 * resumable upload sessions (single- and multi-chunk). It listens on 127.0.0.1 only.
 */
import { createHash, randomUUID } from "node:crypto";
import { type IncomingMessage, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeGcsServer {
  /** Pass as `apiEndpoint` to the client, e.g. `http://127.0.0.1:41234`. */
  endpoint: string;
  /** One line per request, e.g. `POST /upload/storage/v1/b/bkt/o uploadType=resumable`. */
  requests: string[];
  close(): Promise<void>;
}

export interface FakeGcsOptions {
  /** Buckets that exist. */
  buckets: string[];
  /** Buckets that answer every request with 403, like a missing IAM grant. */
  forbiddenBuckets?: string[];
  /** Largest listing page the server returns, whatever maxResults asks (real GCS caps at 1000). */
  maxPageSize?: number;
}

interface StoredObject {
  data: Buffer;
  contentType: string;
  generation: number;
  updated: string;
}

interface UploadSession {
  bucket: string;
  name: string;
  contentType: string;
  chunks: Buffer[];
  received: number;
}

/** Starts the fake on a free port of 127.0.0.1. */
export async function startFakeGcsServer(options: FakeGcsOptions): Promise<FakeGcsServer> {
  const buckets = new Map<string, Map<string, StoredObject>>(
    options.buckets.map((name) => [name, new Map()]),
  );
  const forbidden = new Set(options.forbiddenBuckets ?? []);
  const maxPageSize = options.maxPageSize ?? 1000;
  const sessions = new Map<string, UploadSession>();
  const requests: string[] = [];
  let generation = 1;
  let endpoint = "";

  function metadata(bucket: string, name: string, object: StoredObject): object {
    return {
      kind: "storage#object",
      id: `${bucket}/${name}/${object.generation}`,
      name,
      bucket,
      generation: String(object.generation),
      metageneration: "1",
      contentType: object.contentType,
      size: String(object.data.length),
      md5Hash: createHash("md5").update(object.data).digest("base64"),
      crc32c: crc32cBase64(object.data),
      timeCreated: object.updated,
      updated: object.updated,
      etag: `E${object.generation}`,
    };
  }

  function store(bucket: string, name: string, data: Buffer, contentType: string): object {
    // Replaced in one step when the upload completes: GCS objects are never visible half-written.
    const object = {
      data,
      contentType,
      generation: generation++,
      updated: new Date().toISOString(),
    };
    buckets.get(bucket)?.set(name, object);
    return metadata(bucket, name, object);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", endpoint);
    const query = url.searchParams;
    requests.push(
      `${req.method} ${url.pathname}${query.get("uploadType") ? ` uploadType=${query.get("uploadType")}` : ""}${query.get("pageToken") ? " pageToken" : ""}`,
    );
    const body = await readBody(req);
    // Path segments are split before decoding: object names carry "/" as %2F.
    const parts = url.pathname.split("/").map(decodeURIComponent);
    const isUpload = parts[1] === "upload";
    const [api, version, b, bucket, o, name] = isUpload ? parts.slice(2) : parts.slice(1);
    if (api !== "storage" || version !== "v1" || b !== "b" || o !== "o" || bucket === undefined) {
      return sendError(res, 404, `no fake route for ${req.method} ${url.pathname}`, "notFound");
    }
    if (forbidden.has(bucket)) {
      return sendError(
        res,
        403,
        `fake-sa@example.iam.gserviceaccount.com does not have storage.objects access to the Google Cloud Storage bucket.`,
        "forbidden",
      );
    }
    const objects = buckets.get(bucket);
    if (!objects) return sendError(res, 404, "The specified bucket does not exist.", "notFound");

    if (isUpload) return handleUpload(req, res, query, bucket, body);

    if (name === undefined && req.method === "GET") {
      const prefix = query.get("prefix") ?? "";
      const pageSize = Math.min(Number(query.get("maxResults") ?? maxPageSize), maxPageSize);
      const start = Number(query.get("pageToken") ?? 0);
      const names = [...objects.keys()].filter((n) => n.startsWith(prefix)).sort();
      const page = names.slice(start, start + pageSize);
      return sendJson(res, 200, {
        kind: "storage#objects",
        ...(page.length > 0
          ? { items: page.map((n) => metadata(bucket, n, objects.get(n) as StoredObject)) }
          : {}),
        ...(start + pageSize < names.length ? { nextPageToken: String(start + pageSize) } : {}),
      });
    }

    const object = name === undefined ? undefined : objects.get(name);
    if (name === undefined || !object) {
      return sendError(res, 404, `No such object: ${bucket}/${name ?? ""}`, "notFound");
    }
    if (req.method === "DELETE") {
      objects.delete(name);
      res.writeHead(204).end();
      return;
    }
    if (req.method === "GET" && query.get("alt") === "media") {
      res.writeHead(200, {
        "content-type": object.contentType,
        "content-length": object.data.length,
        "x-goog-hash": `crc32c=${crc32cBase64(object.data)},md5=${createHash("md5").update(object.data).digest("base64")}`,
        "x-goog-stored-content-encoding": "identity",
        "x-goog-generation": String(object.generation),
      });
      res.end(object.data);
      return;
    }
    if (req.method === "GET") return sendJson(res, 200, metadata(bucket, name, object));
    return sendError(res, 405, `fake does not support ${req.method} on objects`, "invalid");
  }

  function handleUpload(
    req: IncomingMessage,
    res: ServerResponse,
    query: URLSearchParams,
    bucket: string,
    body: Buffer,
  ): void {
    const uploadType = query.get("uploadType");
    if (req.method === "POST" && uploadType === "multipart") {
      const [meta, media] = parseMultipartRelated(req.headers["content-type"] ?? "", body);
      const fields = JSON.parse(meta.body.toString("utf8")) as { name?: string };
      const name = query.get("name") ?? fields.name;
      if (!name) return sendError(res, 400, "Required: object name", "required");
      return sendJson(res, 200, store(bucket, name, media.body, media.contentType));
    }
    if (req.method === "POST" && uploadType === "resumable") {
      const fields = (body.length ? JSON.parse(body.toString("utf8")) : {}) as {
        name?: string;
        contentType?: string;
      };
      const name = query.get("name") ?? fields.name;
      if (!name) return sendError(res, 400, "Required: object name", "required");
      const id = randomUUID();
      sessions.set(id, {
        bucket,
        name,
        contentType: fields.contentType ?? "application/octet-stream",
        chunks: [],
        received: 0,
      });
      const location = new URL(`/upload/storage/v1/b/${encodeURIComponent(bucket)}/o`, endpoint);
      location.searchParams.set("uploadType", "resumable");
      location.searchParams.set("name", name);
      location.searchParams.set("upload_id", id);
      res.writeHead(200, { location: location.href, "content-length": 0 }).end();
      return;
    }
    if (req.method === "PUT" && uploadType === "resumable") {
      const session = sessions.get(query.get("upload_id") ?? "");
      if (!session) return sendError(res, 404, "No such upload session", "notFound");
      // Content-Range is "bytes first-last/total", "bytes first-*/total" or "bytes */total",
      // where total may be "*" while the client does not know it yet.
      const range = /^bytes (\*|(\d+)-(\d+|\*))\/(\d+|\*)$/.exec(
        req.headers["content-range"] ?? "",
      );
      if (!range) return sendError(res, 400, "Bad Content-Range", "invalid");
      if (range[2] !== undefined && Number(range[2]) !== session.received) {
        return sendError(res, 400, "Content-Range does not continue the upload", "invalid");
      }
      if (body.length > 0) {
        session.chunks.push(body);
        session.received += body.length;
      }
      const total = range[4] === "*" ? undefined : Number(range[4]);
      const final = total === session.received || (range[3] === "*" && range[1] !== "*");
      if (!final) {
        res.writeHead(
          308,
          session.received > 0 ? { range: `bytes=0-${session.received - 1}` } : {},
        );
        res.end();
        return;
      }
      const data = Buffer.concat(session.chunks);
      const hashes = parseGoogHash(req.headers["x-goog-hash"]);
      if (hashes.crc32c && hashes.crc32c !== crc32cBase64(data)) {
        return sendError(res, 400, "Provided CRC32C does not match the uploaded data", "invalid");
      }
      sessions.delete(query.get("upload_id") ?? "");
      return sendJson(res, 200, store(bucket, session.name, data, session.contentType));
    }
    return sendError(
      res,
      400,
      `fake does not support upload ${req.method} ${uploadType}`,
      "invalid",
    );
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) sendError(res, 500, String(e), "backendError");
      else res.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    endpoint,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(status, {
    "content-type": "application/json; charset=UTF-8",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

function sendError(res: ServerResponse, status: number, message: string, reason: string): void {
  sendJson(res, status, {
    error: { code: status, message, errors: [{ message, domain: "global", reason }] },
  });
}

interface Part {
  contentType: string;
  body: Buffer;
}

/** Splits a multipart/related body (RFC 2387) into its parts. */
function parseMultipartRelated(contentType: string, body: Buffer): Part[] {
  const boundary = /boundary="?([^";]+)"?/.exec(contentType)?.[1];
  if (!boundary) throw new Error(`no boundary in ${contentType}`);
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: Part[] = [];
  let at = body.indexOf(delimiter);
  while (at !== -1) {
    const start = at + delimiter.length;
    if (body.subarray(start, start + 2).toString() === "--") break;
    const next = body.indexOf(delimiter, start);
    if (next === -1) break;
    // Each part is CRLF, headers, CRLF CRLF, body, CRLF before the next delimiter.
    const part = body.subarray(start + 2, next - 2);
    const split = part.indexOf("\r\n\r\n");
    const headers = part.subarray(0, split).toString("utf8");
    parts.push({
      contentType: /content-type:\s*([^\r\n]+)/i.exec(headers)?.[1] ?? "application/octet-stream",
      body: Buffer.from(part.subarray(split + 4)),
    });
    at = next;
  }
  if (parts.length !== 2) throw new Error(`expected 2 multipart parts, got ${parts.length}`);
  return parts;
}

function parseGoogHash(header: string | string[] | undefined): Record<string, string> {
  const hashes: Record<string, string> = {};
  for (const pair of [header ?? []].flat().join(",").split(",")) {
    const eq = pair.indexOf("=");
    if (eq > 0) hashes[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  return hashes;
}

// CRC32C (Castagnoli), written out here so the fake checks the client rather than reusing its code.
const CRC32C_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32cBase64(data: Buffer): string {
  let crc = 0xffffffff;
  for (const byte of data) crc = CRC32C_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  const out = Buffer.alloc(4);
  out.writeUInt32BE((crc ^ 0xffffffff) >>> 0);
  return out.toString("base64");
}
