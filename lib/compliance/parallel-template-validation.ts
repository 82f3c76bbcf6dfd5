import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MessageChannel, Worker, receiveMessageOnPort } from 'node:worker_threads';
import { type App, CloudFormationValidatePlugin, type IPolicyValidationContext, type PolicyValidationPluginReport, Validations } from 'aws-cdk-lib';
import * as cxapi from 'aws-cdk-lib/cx-api';
import type { IConstruct } from 'constructs';
import { wrapStageSynth } from './wrap-stage-synth';

/** One template as the stock plugin hands it to the engine. */
export interface ValidateRequest {
  readonly content: string;
  readonly name: string;
  readonly options: unknown;
}

export interface Report {
  readonly diagnostics: unknown[];
}

interface Engine {
  validateTemplate(template: { content: string | Uint8Array; name: string }, options: unknown): Report;
}

/**
 * Where reports are kept between runs, by the digest of everything that decides them (see ValidationCache).
 * LAKESTREAM_VALIDATION_CACHE_DIR moves it (a CI cache, or a benchmark's scratch folder).
 */
export const DEFAULT_VALIDATION_CACHE_DIR = process.env.LAKESTREAM_VALIDATION_CACHE_DIR || path.join(__dirname, '..', '..', '.cache', 'template-validation');

/** After this long unused, a report or marker is dropped (a later miss only costs one validation). */
const CACHE_ENTRY_LIFETIME_MS = 7 * 24 * 3_600_000;

/** Stands for the template's path inside stored reports. */
const NAME_PLACEHOLDER = '\u0000template\u0000';

/**
 * Reports of earlier runs, keyed by a digest of everything the engine's answer depends on: the
 * template text and name, the options aws-cdk-lib passes, the versions of aws-cdk-lib and of the
 * engine package, and the text of every rule file the worker loads. The engine is a pure function
 * of these, so an unchanged template gets the very report a fresh validation would give; any change
 * to any of them is a new key and a real validation. Only the developer loop gains (a clean clone, as
 * in CI, has no cache); `LAKESTREAM_VALIDATION_CACHE=0` turns it off.
 */
export class ValidationCache {
  private readonly engineDigest: string;

  constructor(
    private readonly dir: string = DEFAULT_VALIDATION_CACHE_DIR,
    engineDigest?: string,
  ) {
    this.engineDigest = engineDigest ?? ValidationCache.currentEngineDigest();
  }

  /** aws-cdk-lib and engine versions plus the rule files, as the worker loads them. */
  public static currentEngineDigest(): string {
    const hash = createHash('sha256');
    const cdkRoot = path.dirname(require.resolve('aws-cdk-lib/package.json'));
    const enginePackage = require.resolve('@aws/cloudformation-validate/package.json', { paths: [cdkRoot] });
    for (const file of [path.join(cdkRoot, 'package.json'), enginePackage]) {
      hash.update(String((JSON.parse(fs.readFileSync(file, 'utf8')) as { version?: string }).version)).update('\0');
    }
    const rulesDirectory = path.join(cdkRoot, 'core', 'lib', 'validation', 'rules');
    for (const file of fs.readdirSync(rulesDirectory).sort())
      hash
        .update(file)
        .update('\0')
        .update(fs.readFileSync(path.join(rulesDirectory, file)))
        .update('\0');
    return hash.digest('hex');
  }

  public key(request: ValidateRequest): string {
    return (
      createHash('sha256')
        .update(this.engineDigest)
        .update('\0')
        // The template's file name, not its folder: aws-cdk-lib names templates by their absolute path,
        // and the output folder differs between runs (tests, `cdk synth -o`). Reports carry the path
        // back as NAME_PLACEHOLDER, so each run gets its own.
        .update(path.basename(request.name))
        .update('\0')
        .update(JSON.stringify(request.options) ?? 'undefined')
        .update('\0')
        .update(request.content)
        .digest('hex')
    );
  }

  public get(request: ValidateRequest): Report | undefined {
    try {
      const file = path.join(this.dir, `${this.key(request)}.json`);
      const stored = fs.readFileSync(file, 'utf8');
      // Marks the report as used, so pruning keeps what is still served.
      const now = new Date();
      fs.utimesSync(file, now, now);
      return JSON.parse(stored, (_key, value: unknown) => (typeof value === 'string' ? value.split(NAME_PLACEHOLDER).join(request.name) : value)) as Report;
    } catch {
      return undefined;
    }
  }

  /** Whether a validation of an app built from these sources finished (so the cache holds its reports). */
  public hasValidated(sourceFingerprint: string): boolean {
    return fs.existsSync(this.validatedMarker(sourceFingerprint));
  }

  /** Notes that every template of an app built from these sources now has its report here. */
  public recordValidated(sourceFingerprint: string): void {
    try {
      fs.mkdirSync(path.dirname(this.validatedMarker(sourceFingerprint)), { recursive: true });
      fs.writeFileSync(this.validatedMarker(sourceFingerprint), '');
      this.pruneOlderThan(Date.now() - CACHE_ENTRY_LIFETIME_MS);
    } catch {
      // Only the next run's speed depends on it.
    }
  }

  /** Drops reports and markers unused for a while, so the folder does not grow with every edit. */
  private pruneOlderThan(cutoffMs: number): void {
    for (const folder of [this.dir, path.join(this.dir, 'validated-sources')]) {
      for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
        const file = path.join(folder, entry.name);
        if (entry.isFile() && fs.statSync(file).mtimeMs < cutoffMs) fs.rmSync(file, { force: true });
      }
    }
  }

  private validatedMarker(sourceFingerprint: string): string {
    return path.join(this.dir, 'validated-sources', sourceFingerprint);
  }

  /** Written to a temporary file and renamed, so a concurrent run never reads half a report. */
  public put(request: ValidateRequest, report: Report): void {
    try {
      fs.mkdirSync(this.dir, { recursive: true });
      const file = path.join(this.dir, `${this.key(request)}.json`);
      const temporary = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
      fs.writeFileSync(
        temporary,
        JSON.stringify(report, (_key, value: unknown) => (typeof value === 'string' ? value.split(request.name).join(NAME_PLACEHOLDER) : value)),
      );
      fs.renameSync(temporary, file);
    } catch {
      // A read-only checkout only loses the speed-up.
    }
  }
}

/** Options of ParallelTemplateValidation. */
export interface ParallelTemplateValidationProps {
  /**
   * Worker threads, each with its own engine. One by default: its engine builds on the second core
   * while the app is constructed, at no extra CPU. A second one halves validation but builds a
   * second engine (~1.1 s CPU), which competes with construction for the two cores: in paired cold
   * synths on a 2-core machine it made dev ~0.3 s slower and all environments ~0.25 s faster, so
   * only from four cores on.
   * @default 2 from four cores on, else 1
   */
  readonly workerCount?: number;

  /**
   * Reports of earlier runs; `undefined` validates every template afresh.
   * @default a ValidationCache in .cache/template-validation, or none when LAKESTREAM_VALIDATION_CACHE=0
   */
  readonly cache?: ValidationCache;

  /**
   * A digest of the sources this app is built from (see sourceFingerprint). When the cache records a
   * finished validation for it, no worker starts unless a template misses the cache.
   * @default none: workers always start at construction
   */
  readonly sourceFingerprint?: string;
}

/** How long synthesis waits for a worker before failing (a crashed worker never answers). */
const WORKER_TIMEOUT_MS = 300_000;

class ValidationWorker {
  private readonly worker: Worker;
  /** Bytes of template sent and not yet collected: where the next batch goes. */
  public pendingBytes = 0;

  constructor() {
    this.worker = new Worker(path.join(__dirname, 'template-validation-worker.js'));
    // The worker must never keep a finished synth alive.
    this.worker.unref();
  }

  /**
   * Sends the templates; collect() blocks for the answer. Batches may overlap (a stage's templates
   * sent ahead, then the rest): each has its own flag and port, and the worker answers them in order.
   */
  public send(requests: ValidateRequest[]): () => Report[] {
    const answered = new SharedArrayBuffer(4);
    const flag = new Int32Array(answered);
    const bytes = requests.reduce((sum, r) => sum + r.content.length, 0);
    this.pendingBytes += bytes;
    const { port1, port2 } = new MessageChannel();
    this.worker.postMessage({ requests, port: port2, answered }, [port2]);
    return () => {
      this.pendingBytes -= bytes;
      // Synthesis is synchronous: block this thread until the worker flips the flag.
      const deadline = Date.now() + WORKER_TIMEOUT_MS;
      while (Atomics.load(flag, 0) === 0) {
        if (Date.now() > deadline) throw new Error(`CloudFormation template validation: no answer from its worker thread within ${WORKER_TIMEOUT_MS / 1000} s`);
        Atomics.wait(flag, 0, 0, 1000);
      }
      const answer = receiveMessageOnPort(port1)?.message as { reports?: Report[]; error?: string } | undefined;
      port1.close();
      if (!answer?.reports) throw new Error(`CloudFormation template validation failed in its worker thread: ${answer?.error ?? 'no answer'}`);
      return answer.reports;
    };
  }

  public terminate(): void {
    void this.worker.terminate();
  }
}

/**
 * aws-cdk-lib's CloudFormation template validation (the same engine, rules, options and report),
 * with the engine built in a worker thread while the app is still being constructed (and, from four
 * cores on, the templates split over two). Building the engine takes ~1.1 s of CPU and validating
 * the dev templates ~1.2 s; on the main thread both came after construction.
 *
 * The build grows the engine's WebAssembly memory from ~34 MB to ~210 MB in hundreds of small steps.
 * V8 accounts each grown buffer as new external memory, and past 64 MB every step starts a garbage
 * collection of the worker's small heap. With concurrent marking there were ~350, each also
 * scheduling helper threads, and they doubled the build (2.9 s of CPU instead of 1.3 s, ~80
 * collections, measured standalone), so cdk.json runs node with --no-concurrent-marking (see
 * "Synth speed" in the README).
 *
 * Registered at the app by installOn (replacing the built-in instance, which aws-cdk-lib then does
 * not add), so the report keeps the plugin's name and with it aws-cdk-lib's treatment of its
 * findings. The stock plugin's own validate() runs twice: once with an engine that only records what
 * it is asked (templates and options exactly as aws-cdk-lib prepares them), and once with an engine
 * that hands back the workers' reports in the same order, so the mapping to violations is
 * aws-cdk-lib's own. The same recording gives the requests of each stage sent ahead (validateAhead):
 * with every environment, the first stages' templates are validated while the last ones synthesize.
 */
export class ParallelTemplateValidation extends CloudFormationValidatePlugin {
  private pool: ValidationWorker[] = [];
  private currentEngine: Engine;
  /**
   * Requests of validateAhead, by template path: the report (blocks until a worker answers), and
   * whether it came from the cache (so validate() neither reads nor stores it again).
   */
  private readonly ahead = new Map<string, { request: ValidateRequest; report: () => Report; stored: boolean }>();
  private readonly sentAhead = new WeakSet<cxapi.CloudAssembly>();
  private readonly aheadCounts = { sent: 0, served: 0 };

  private readonly workerCount: number;
  private readonly cache: ValidationCache | undefined;
  private readonly sourceFingerprint: string | undefined;

  /**
   * Starts the workers (and so the engines) at once, unless the cache already holds every report for
   * these sources (see `sourceFingerprint`): create this before constructing the stages.
   */
  constructor(props: ParallelTemplateValidationProps = {}) {
    super();
    this.workerCount = props.workerCount ?? (os.availableParallelism() >= 4 ? 2 : 1);
    this.cache = 'cache' in props ? props.cache : process.env.LAKESTREAM_VALIDATION_CACHE === '0' ? undefined : new ValidationCache();
    this.sourceFingerprint = props.sourceFingerprint;
    // Building an engine costs ~1.1 s of CPU and a few hundred MB, taken from construction on a
    // 2-core machine (at ~1.5 s, before --no-concurrent-marking, it slowed a fully cached synth of
    // dev from ~3.1 s to ~4.5 s). When these very sources were validated
    // before, every report is expected in the cache and a worker starts only on a miss.
    const expectAllCached = this.cache !== undefined && this.sourceFingerprint !== undefined && this.cache.hasValidated(this.sourceFingerprint);
    if (!expectAllCached) this.pool = this.startWorkers();
    this.currentEngine = this.recordingEngine([]);
    // Replaces the stock plugin's private engine factory; `validate` below decides what it returns.
    Object.defineProperty(this, 'initializeEngine', { value: () => this.currentEngine });
  }

  /** Whether workers are running (started at construction, or for the misses of a validation). */
  public get workersStarted(): boolean {
    return this.pool.length > 0;
  }

  /**
   * Registers this as the app's CloudFormation template validation (replacing the built-in one),
   * and has every stage synthesized during the app's synthesis send its templates ahead
   * (validateAhead).
   */
  public installOn(app: App): void {
    Validations.of(app).addPlugins(this);
    validationAheadOf.set(app, this);
    installValidationAheadHook();
  }

  /**
   * Sends the templates of a stage that has just been synthesized to the workers, so that they are
   * validated while the app goes on synthesizing the next stage. aws-cdk-lib validates once, after
   * every stage: with several environments the workers would otherwise start on all the templates
   * only then, while the main thread waits. validate() takes a report from here only for a request
   * equal to the one sent (template path, text and options); anything else is validated as usual.
   */
  public validateAhead(assembly: cxapi.CloudAssembly, appConstruct: IConstruct): void {
    if (this.sentAhead.has(assembly)) return;
    this.sentAhead.add(assembly);
    const misses: ValidateRequest[] = [];
    for (const request of this.requestsFor(stageContext(assembly, appConstruct))) {
      const stored = this.cache?.get(request);
      if (stored) this.ahead.set(request.name, { request, report: () => stored, stored: true });
      else misses.push(request);
    }
    if (misses.length === 0) return;
    if (this.pool.length === 0) this.pool = this.startWorkers();
    const collect = once(this.sendToWorkers(misses));
    misses.forEach((request, k) => {
      this.ahead.set(request.name, { request, report: () => collect()[k], stored: false });
    });
    this.aheadCounts.sent += misses.length;
  }

  public override validate(context: IPolicyValidationContext): PolicyValidationPluginReport {
    const requests = this.requestsFor(context);
    const found = requests.map((request) => this.takeAhead(request) ?? this.fromCache(request));
    const reports = found.map((f) => f?.report);
    const misses = requests.map((_, i) => i).filter((i) => reports[i] === undefined);
    if (misses.length > 0) {
      if (this.pool.length === 0) this.pool = this.startWorkers();
      const fresh = this.sendToWorkers(misses.map((i) => requests[i]))();
      misses.forEach((requestIndex, k) => {
        reports[requestIndex] = fresh[k];
      });
    }
    for (const [i, request] of requests.entries()) if (!found[i]?.stored) this.cache?.put(request, reports[i] as Report);
    if (this.sourceFingerprint !== undefined) this.cache?.recordValidated(this.sourceFingerprint);
    // Each engine holds a few hundred MB; a later synth of the same app starts new ones.
    this.ahead.clear();
    this.stopWorkers();
    let next = 0;
    this.currentEngine = { validateTemplate: () => reports[next++] as Report };
    return super.validate(context);
  }

  /** Templates sent ahead, and reports validate() took from them, since this plugin was created. */
  public get validatedAhead(): { readonly sent: number; readonly served: number } {
    return { ...this.aheadCounts };
  }

  /** The templates and options exactly as the stock plugin would hand them to its engine. */
  private requestsFor(context: IPolicyValidationContext): ValidateRequest[] {
    const requests: ValidateRequest[] = [];
    this.currentEngine = this.recordingEngine(requests);
    super.validate(context);
    return requests;
  }

  /** The report of the same request made ahead, if there was one. */
  private takeAhead(request: ValidateRequest): { report: Report; stored: boolean } | undefined {
    const sent = this.ahead.get(request.name);
    if (!sent || sent.request.content !== request.content || JSON.stringify(sent.request.options) !== JSON.stringify(request.options)) return undefined;
    this.ahead.delete(request.name);
    if (!sent.stored) this.aheadCounts.served++;
    return { report: sent.report(), stored: sent.stored };
  }

  private fromCache(request: ValidateRequest): { report: Report; stored: boolean } | undefined {
    const report = this.cache?.get(request);
    return report && { report, stored: true };
  }

  public override _dispose(): void {
    this.stopWorkers();
    super._dispose();
  }

  private startWorkers(): ValidationWorker[] {
    return Array.from({ length: this.workerCount }, () => new ValidationWorker());
  }

  private stopWorkers(): void {
    for (const worker of this.pool) worker.terminate();
    this.pool = [];
  }

  private recordingEngine(requests: ValidateRequest[]): Engine {
    return {
      validateTemplate: (template, options) => {
        const content = typeof template.content === 'string' ? template.content : Buffer.from(template.content).toString('utf8');
        requests.push({ content, name: template.name, options });
        return { diagnostics: [] };
      },
    };
  }

  /**
   * Largest templates first, each to the worker with the least template text still to validate;
   * the returned function blocks for the answers, in request order.
   */
  private sendToWorkers(requests: ValidateRequest[]): () => Report[] {
    const shares = this.pool.map((worker) => ({ worker, indices: [] as number[], bytes: worker.pendingBytes }));
    const bySize = requests.map((r, i) => ({ i, bytes: r.content.length })).sort((a, b) => b.bytes - a.bytes);
    for (const { i, bytes } of bySize) {
      const share = shares.reduce((least, s) => (s.bytes < least.bytes ? s : least));
      share.indices.push(i);
      share.bytes += bytes;
    }
    const pending = shares
      .filter((share) => share.indices.length > 0)
      .map((share) => ({ share, collect: share.worker.send(share.indices.map((i) => requests[i])) }));
    return () => {
      const reports: Report[] = new Array(requests.length);
      for (const { share, collect } of pending) {
        const answers = collect();
        share.indices.forEach((requestIndex, k) => {
          reports[requestIndex] = answers[k];
        });
      }
      return reports;
    };
  }
}

/** The context aws-cdk-lib builds for the stacks of one assembly (synthesis-validation's invokeSinglePlugin). */
function stageContext(assembly: cxapi.CloudAssembly, appConstruct: IConstruct): IPolicyValidationContext {
  const stackTemplates = assembly.stacksRecursively.map((stack) => ({
    stackConstructPath: stack.hierarchicalId,
    templatePath: stack.templateFullPath,
    accountId: stack.environment.account !== cxapi.UNKNOWN_ACCOUNT ? stack.environment.account : undefined,
    region: stack.environment.region !== cxapi.UNKNOWN_REGION ? stack.environment.region : undefined,
  }));
  const same = <T>(values: T[]): T | undefined => (values.every((v) => v === values[0]) ? values[0] : undefined);
  return {
    templatePaths: stackTemplates.map((s) => s.templatePath),
    stackTemplates,
    appConstruct,
    accountId: same(stackTemplates.map((s) => s.accountId)),
    region: same(stackTemplates.map((s) => s.region)),
  };
}

/** `collect` called at most once; later calls return its first answer. */
function once<T>(collect: () => T): () => T {
  let result: { value: T } | undefined;
  return () => {
    result ??= { value: collect() };
    return result.value;
  };
}

/** The validation installed on each app (installOn). */
const validationAheadOf = new WeakMap<IConstruct, ParallelTemplateValidation>();
/** Apps whose own synth() is running: their validation is certain to follow their stages' synthesis. */
const appsSynthesizing = new WeakSet<IConstruct>();

/**
 * A stage synthesized while its app synthesizes sends its templates ahead. A stage synthesized on
 * its own (a test's Template.fromStack) does not, since no validation may follow it.
 */
function installValidationAheadHook(): void {
  wrapStageSynth('lakestream.compliance.validationAheadHook', (stage, synth) => {
    const root = stage.node.root;
    if (root === stage) {
      appsSynthesizing.add(root);
      try {
        return synth();
      } finally {
        appsSynthesizing.delete(root);
      }
    }
    const assembly = synth();
    if (appsSynthesizing.has(root)) validationAheadOf.get(root)?.validateAhead(assembly, root);
    return assembly;
  });
}
