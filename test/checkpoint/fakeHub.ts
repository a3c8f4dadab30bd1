// A local stand-in for the Hugging Face Hub: the three endpoints a pull uses (model info, file tree,
// resolve with Range), plus switches to misbehave (cut a download, ignore Range, corrupt bytes).
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeRepo {
  commit: string;
  files: Record<string, Buffer>;
  /** Paths stored with Git LFS (oid = sha256); others get a git blob oid. */
  lfs?: (path: string) => boolean;
}

export interface FakeHubRequest {
  method: string;
  url: string;
  range: string | undefined;
}

export class FakeHub {
  readonly repos = new Map<string, FakeRepo>();
  readonly requests: FakeHubRequest[] = [];
  /** path -> bytes after which the connection is destroyed (once). */
  cutAfter = new Map<string, number>();
  ignoreRange = false;
  /** Paths answered with 403 (a gated model without an accepted licence). */
  forbid = new Set<string>();
  /** path -> bytes served instead of the real content. */
  corrupt = new Map<string, Buffer>();
  private server: Server | undefined;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  /** Resolve requests (file downloads) made so far, by file path. */
  downloads(): { path: string; range: string | undefined }[] {
    return this.requests.filter((r) => r.url.includes('/resolve/')).map((r) => ({ path: decodeURIComponent(r.url.split('/resolve/')[1]!.split('/').slice(1).join('/')), range: r.range }));
  }

  static oid(data: Buffer, lfs: boolean): string {
    return lfs ? createHash('sha256').update(data).digest('hex') : createHash('sha1').update(`blob ${data.length}\0`).update(data).digest('hex');
  }

  private json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '';
    this.requests.push({ method: req.method ?? 'GET', url, range: req.headers['range'] });
    const path = url.split('?')[0]!;
    let m = /^\/api\/models\/(.+)\/revision\/([^/]+)$/.exec(path);
    if (m) {
      const repo = this.repos.get(m[1]!);
      if (!repo) return this.json(res, 404, { error: 'Repository not found' }, { 'X-Error-Code': 'RepoNotFound' });
      return this.json(res, 200, {
        _id: 'x', id: m[1], sha: repo.commit, private: false, gated: false, downloads: 0, likes: 0,
        lastModified: '2024-01-01T00:00:00.000Z', pipeline_tag: 'text-generation',
      });
    }
    m = /^\/api\/models\/(.+)\/tree\/([0-9a-f]{40})$/.exec(path);
    if (m) {
      const repo = this.repos.get(m[1]!);
      if (!repo || repo.commit !== m[2]) return this.json(res, 404, { error: 'not found' });
      return this.json(res, 200, Object.entries(repo.files).map(([p, data]) => {
        const lfs = repo.lfs?.(p) ?? false;
        const entry: Record<string, unknown> = { type: 'file', path: p, size: data.length, oid: FakeHub.oid(data, false) };
        if (lfs) entry['lfs'] = { oid: FakeHub.oid(data, true), size: data.length, pointerSize: 134 };
        return entry;
      }));
    }
    m = /^\/(.+)\/resolve\/([0-9a-f]{40})\/(.+)$/.exec(path);
    if (m) {
      const repo = this.repos.get(m[1]!);
      const file = decodeURIComponent(m[3]!);
      const real = repo?.files[file];
      if (!repo || repo.commit !== m[2] || !real) return this.json(res, 404, { error: 'Entry not found' }, { 'X-Error-Code': 'EntryNotFound' });
      if (this.forbid.has(file)) return this.json(res, 403, { error: 'Access to model is restricted' });
      const data = this.corrupt.get(file) ?? real;
      let start = 0;
      const range = /^bytes=(\d+)-$/.exec(req.headers['range'] ?? '');
      if (range && !this.ignoreRange) start = Number(range[1]);
      const body = data.subarray(start);
      res.writeHead(start > 0 ? 206 : 200, {
        'Content-Length': String(body.length),
        'Accept-Ranges': 'bytes',
        ...(start > 0 ? { 'Content-Range': `bytes ${start}-${data.length - 1}/${data.length}` } : {}),
      });
      const cut = this.cutAfter.get(file);
      if (cut !== undefined) {
        this.cutAfter.delete(file);
        res.write(body.subarray(0, cut), () => setTimeout(() => res.destroy(), 20));
        return;
      }
      res.end(body);
      return;
    }
    this.json(res, 404, { error: `no route ${path}` });
  }
}
