/**
 * A Dockerfile's build and start steps, run natively on a machine with no container engine: each
 * stage gets a folder standing for its own file system (/app, /data …), every instruction does
 * what Docker's does (WORKDIR, COPY from the build context filtered by .dockerignore or from
 * another stage, ENV, ARG, RUN, USER), and commands run inside a mount namespace where that
 * folder is mounted over this machine's base system (`enter-rootfs.sh`). What the native run takes
 * from this machine instead of the base image: the operating system with its packages (so RUN
 * lines that install OS packages are not run) and Node.js itself.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { cp, mkdir, readFile, readdir, stat, writeFile } from "node:fs/promises";
import { dirname, join, posix } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import ignore from "@balena/dockerignore";
import {
  type Copy,
  DockerfileParser,
  type Env,
  type From,
  type Instruction,
  type JSONInstruction,
} from "dockerfile-ast";

const run = promisify(execFile);
const ENTER = fileURLToPath(new URL("./enter-rootfs.sh", import.meta.url));

/** The official Node.js images' unprivileged user. */
const BASE_USERS: Record<string, { uid: number; gid: number }> = {
  root: { uid: 0, gid: 0 },
  node: { uid: 1000, gid: 1000 },
};
const BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/** Docker's predefined build arguments (network settings of the builder), plus its CA bundle. */
const BUILDER_ENV = [
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "NO_PROXY",
  "http_proxy",
  "https_proxy",
  "no_proxy",
  "NODE_EXTRA_CA_CERTS",
  "SSL_CERT_FILE",
];

export interface Stage {
  readonly name: string;
  /** The base image the FROM line names, with build arguments filled in. */
  readonly from: string;
  /** The folder holding the stage's own top-level folders. */
  readonly fs: string;
  env: Record<string, string>;
  workdir: string;
  user: string;
}

export interface NativeImage {
  readonly stages: Stage[];
  /** The last stage: the image. */
  readonly image: Stage;
  readonly entrypoint: string[];
  readonly cmd: string[];
  readonly healthcheck: string[] | null;
  readonly volumes: string[];
  readonly exposed: string[];
  /** RUN lines left to the base image (OS packages). */
  readonly skipped: string[];
  /** Files of the build context, after .dockerignore. */
  readonly context: string[];
  /** The base image's users, mounted over /etc/passwd and /etc/group. */
  readonly users: UsersFiles;
}

function jsonArgs(instruction: Instruction): string[] {
  return (instruction as JSONInstruction).getJSONStrings().map((s) => s.getJSONValue());
}

function substitute(text: string, vars: Record<string, string>): string {
  return text.replace(/\$\{(\w+)\}|\$(\w+)/g, (m, a: string, b: string) => vars[a ?? b] ?? m);
}

/** The first folder of an absolute container path: the stage owns it. */
function topFolder(path: string): string {
  return path.split("/").filter(Boolean)[0];
}

/** The base system's folders, which come from this machine (as `enter-rootfs.sh` mounts them). */
const BASE_SYSTEM = new Set(
  "bin boot dev etc home lib lib32 lib64 libx32 media mnt opt proc root run sbin srv sys tmp usr var".split(
    " ",
  ),
);

interface UsersFiles {
  readonly passwd: string;
  readonly group: string;
}

async function usersFiles(dir: string): Promise<UsersFiles> {
  const names = new Set(Object.keys(BASE_USERS));
  const ids = new Set(Object.values(BASE_USERS).map((u) => String(u.uid)));
  const keep = (line: string) => {
    const [name, , id] = line.split(":");
    return line !== "" && !names.has(name) && !ids.has(id);
  };
  const passwd = (await readFile("/etc/passwd", "utf8")).split("\n").filter(keep);
  const group = (await readFile("/etc/group", "utf8")).split("\n").filter(keep);
  passwd.unshift("root:x:0:0:root:/root:/bin/bash", "node:x:1000:1000::/home/node:/bin/bash");
  group.unshift("root:x:0:", "node:x:1000:");
  const files = { passwd: join(dir, "passwd"), group: join(dir, "group") };
  await writeFile(files.passwd, `${passwd.join("\n")}\n`);
  await writeFile(files.group, `${group.join("\n")}\n`);
  return files;
}

function userSpec(user: string): string {
  const [name, group] = user.split(":");
  const u = BASE_USERS[name];
  if (!u) throw new Error(`USER ${user}: the base image has no such user`);
  const g = group === undefined ? u.gid : BASE_USERS[group]?.gid;
  if (g === undefined) throw new Error(`USER ${user}: the base image has no such group`);
  return `${u.uid}:${g}`;
}

/** Arguments for `unshare` that run `argv` in the stage's file system. */
function enter(stage: Stage, users: UsersFiles, argv: string[]): string[] {
  return [
    "--mount",
    "--propagation",
    "private",
    "bash",
    ENTER,
    stage.fs,
    users.passwd,
    users.group,
    userSpec(stage.user),
    stage.workdir,
    ...argv,
  ];
}

function stageEnv(stage: Stage, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const uid = userSpec(stage.user).split(":")[0];
  return {
    PATH: BASE_PATH,
    HOME: uid === "0" ? "/root" : `/home/${stage.user.split(":")[0]}`,
    ...stage.env,
    ...extra,
  };
}

/** The build context: the repository's files (as a fresh clone has them), less .dockerignore's. */
async function contextFiles(repo: string): Promise<string[]> {
  const { stdout } = await run(
    "git",
    ["ls-files", "-z", "--cached", "--others", "--exclude-standard"],
    {
      cwd: repo,
      maxBuffer: 64 << 20,
    },
  );
  const listed = stdout.split("\0").filter(Boolean);
  const present: string[] = [];
  for (const f of listed) if (await stat(join(repo, f)).catch(() => null)) present.push(f);
  const rules = await readFile(join(repo, ".dockerignore"), "utf8").catch(() => "");
  return ignore().add(rules.split("\n")).filter(present);
}

/** Docker's COPY: a folder's contents go into the destination, a file into or onto it. */
async function copyInto(sources: string[], dest: string, chownTo: string | null): Promise<void> {
  const intoFolder = dest.endsWith("/") || sources.length > 1;
  for (const src of sources) {
    const info = await stat(src).catch(() => null);
    if (!info) throw new Error(`COPY: ${src} is not in the build context or stage`);
    const target = info.isDirectory() || !intoFolder ? dest : join(dest, posix.basename(src));
    await mkdir(info.isDirectory() ? target : dirname(target), { recursive: true });
    await cp(src, target, { recursive: true, force: true, verbatimSymlinks: true });
    if (chownTo) {
      const [uid, gid] = userSpec(chownTo).split(":").map(Number);
      await run("chown", ["-R", `${uid}:${gid}`, target]);
    }
  }
}

/**
 * Builds the Dockerfile in `repo` natively under `work`, as `docker build repo` would, and
 * returns the resulting image. `onStep` hears each instruction as it starts.
 */
export async function buildNatively(
  repo: string,
  work: string,
  onStep: (line: string) => void = () => {},
): Promise<NativeImage> {
  const dockerfile = DockerfileParser.parse(await readFile(join(repo, "Dockerfile"), "utf8"));
  const context = await contextFiles(repo);
  const contextDir = join(work, "context");
  for (const f of context) {
    await mkdir(dirname(join(contextDir, f)), { recursive: true });
    await cp(join(repo, f), join(contextDir, f), { verbatimSymlinks: true });
  }
  const users = await usersFiles(work);
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  const skipped: string[] = [];
  let entrypoint: string[] = [];
  let cmd: string[] = [];
  let healthcheck: string[] | null = null;
  const volumes: string[] = [];
  const exposed: string[] = [];
  let stage: Stage | null = null;

  // A folder the image adds at the top (/app, /data) is the stage's own; the native run cannot
  // write into the base system's.
  const own = async (s: Stage, path: string) => {
    const folder = topFolder(path);
    if (!folder) return;
    if (BASE_SYSTEM.has(folder)) throw new Error(`${path}: writes into the base system`);
    await mkdir(join(s.fs, folder), { recursive: true });
  };
  const inStage = (s: Stage, path: string) =>
    join(s.fs, posix.isAbsolute(path) ? path : posix.join(s.workdir, path));

  for (const instruction of dockerfile.getInstructions()) {
    const keyword = instruction.getKeyword();
    const text = instruction.getArgumentsContent() ?? "";
    onStep(`${keyword} ${text.replace(/\\\n\s*/g, "")}`);
    if (keyword === "ARG") {
      const [name, value] = text.split("=");
      if (!stage) args[name.trim()] = value?.trim() ?? "";
      continue;
    }
    if (keyword === "FROM") {
      const from = instruction as From;
      const name = from.getBuildStage() ?? String(stages.length);
      stage = {
        name,
        from: substitute(from.getImage() ?? "", args),
        fs: join(work, "stages", name),
        env: {},
        workdir: "/",
        user: "root",
      };
      await mkdir(stage.fs, { recursive: true });
      stages.push(stage);
      // A new stage starts from its base image: nothing of the earlier stages' settings.
      entrypoint = [];
      cmd = [];
      healthcheck = null;
      volumes.length = 0;
      exposed.length = 0;
      continue;
    }
    if (!stage) throw new Error(`${keyword} before FROM`);
    switch (keyword) {
      case "LABEL":
        break;
      case "ENV":
        for (const p of (instruction as Env).getProperties()) {
          stage.env[p.getName()] = substitute(p.getValue() ?? "", stage.env);
        }
        break;
      case "WORKDIR":
        stage.workdir = posix.resolve(stage.workdir, substitute(text, stage.env));
        await own(stage, stage.workdir);
        await mkdir(join(stage.fs, stage.workdir), { recursive: true });
        break;
      case "COPY": {
        const copy = instruction as Copy;
        const from = copy.getFromFlag()?.getValue() ?? null;
        const chownFlag = copy.getFlags().find((f) => f.getName() === "chown");
        const parts = copy
          .getArguments()
          .map((a) => a.getValue())
          .filter((a) => !a.startsWith("--"));
        const dest = parts.pop() as string;
        const source = from ? stages.find((s) => s.name === from) : null;
        if (from && !source) throw new Error(`COPY --from=${from}: no such stage`);
        const sources = parts.map((p) => (source ? inStage(source, p) : join(contextDir, p)));
        const target = posix.isAbsolute(dest) ? dest : posix.join(stage.workdir, dest);
        await own(stage, target);
        await copyInto(
          sources,
          join(stage.fs, target) + (dest.endsWith("/") ? "/" : ""),
          chownFlag?.getValue() ?? null,
        );
        break;
      }
      case "RUN": {
        if (/^\s*apt-get\b/.test(text)) {
          skipped.push(text);
          break;
        }
        // Top folders the command names (`mkdir -p /data`) become the stage's own.
        for (const [, path] of text.matchAll(/(?:^|\s)(\/[a-z]+)/g)) {
          if (!BASE_SYSTEM.has(topFolder(path))) await own(stage, path);
        }
        const builder: Record<string, string> = {};
        for (const k of BUILDER_ENV) if (process.env[k]) builder[k] = process.env[k] as string;
        const argv = enter(stage, users, ["/bin/sh", "-c", text]);
        await new Promise<void>((resolve, reject) => {
          const child = spawn("unshare", argv, {
            env: stageEnv(stage as Stage, builder),
            stdio: ["ignore", "pipe", "pipe"],
          });
          let out = "";
          child.stdout.on("data", (c) => (out += c));
          child.stderr.on("data", (c) => (out += c));
          child.once("error", reject);
          child.once("exit", (code) =>
            code === 0 ? resolve() : reject(new Error(`RUN ${text} exited ${code}:\n${out}`)),
          );
        });
        break;
      }
      case "USER":
        stage.user = substitute(text, stage.env).trim();
        userSpec(stage.user);
        break;
      case "VOLUME":
        for (const v of jsonArgs(instruction)) {
          volumes.push(v);
          await own(stage, v);
        }
        break;
      case "EXPOSE":
        exposed.push(...text.split(/\s+/).filter(Boolean));
        break;
      case "HEALTHCHECK": {
        const match = /\bCMD\s+(\[.*\])\s*$/s.exec(text.replace(/\\\n/g, " "));
        if (!match) throw new Error("HEALTHCHECK: only the exec form (CMD [...]) is supported");
        healthcheck = JSON.parse(match[1]) as string[];
        break;
      }
      case "ENTRYPOINT":
        entrypoint = jsonArgs(instruction);
        break;
      case "CMD":
        cmd = jsonArgs(instruction);
        break;
      default:
        throw new Error(`${keyword}: not an instruction this native build knows`);
    }
  }
  if (!stage) throw new Error("the Dockerfile has no FROM");
  return {
    stages,
    image: stage,
    entrypoint,
    cmd,
    healthcheck,
    volumes,
    exposed,
    skipped,
    context,
    users,
  };
}

/** Starts a container of the image: `docker run -e … image [args]`. */
export function startNatively(
  image: NativeImage,
  args: string[] | null,
  env: Record<string, string> = {},
): ChildProcess {
  const argv = [...image.entrypoint, ...(args ?? image.cmd)];
  return spawn("unshare", enter(image.image, image.users, argv), {
    env: stageEnv(image.image, env),
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/** Runs a command in a container's file system: `docker exec`. */
export async function execNatively(
  image: NativeImage,
  argv: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run("unshare", enter(image.image, image.users, argv), {
      env: stageEnv(image.image, env),
    });
    return { code: 0, output: stdout + stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return {
      code: typeof err.code === "number" ? err.code : 1,
      output: `${err.stdout}${err.stderr}`,
    };
  }
}

/** Every file under `dir`, as paths relative to it. */
export async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => posix.relative(dir, join(e.parentPath, e.name)));
}
