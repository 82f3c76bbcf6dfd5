import * as os from 'node:os';
import * as path from 'node:path';
import { MessageChannel, Worker, receiveMessageOnPort } from 'node:worker_threads';
import { CloudFormationValidatePlugin, type IPolicyValidationContext, type PolicyValidationPluginReport } from 'aws-cdk-lib';

/** One template as the stock plugin hands it to the engine. */
interface ValidateRequest {
  readonly content: string;
  readonly name: string;
  readonly options: unknown;
}

interface Report {
  readonly diagnostics: unknown[];
}

interface Engine {
  validateTemplate(template: { content: string | Uint8Array; name: string }, options: unknown): Report;
}

/** How long synthesis waits for a worker before failing (a crashed worker never answers). */
const WORKER_TIMEOUT_MS = 300_000;

class ValidationWorker {
  private readonly flag = new SharedArrayBuffer(4);
  private readonly worker: Worker;

  constructor() {
    this.worker = new Worker(path.join(__dirname, 'template-validation-worker.js'), { workerData: { flag: this.flag } });
    // The worker must never keep a finished synth alive.
    this.worker.unref();
  }

  /** Sends the templates; collect() blocks for the answer. */
  public send(requests: ValidateRequest[]): () => Report[] {
    const flag = new Int32Array(this.flag);
    Atomics.store(flag, 0, 0);
    const { port1, port2 } = new MessageChannel();
    this.worker.postMessage({ requests, port: port2 }, [port2]);
    return () => {
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
 * cores on, the templates split over two). Building the engine takes ~1.5 s of CPU and validating
 * the dev templates ~1.7 s; on the main thread both came after construction.
 *
 * Registered at the app (replacing the built-in instance, which aws-cdk-lib then does not add),
 * so the report keeps the plugin's name and with it aws-cdk-lib's treatment of its findings. The
 * stock plugin's own validate() runs twice: once with an engine that only records what it is asked
 * (templates and options exactly as aws-cdk-lib prepares them), and once with an engine that hands
 * back the workers' reports in the same order, so the mapping to violations is aws-cdk-lib's own.
 */
export class ParallelTemplateValidation extends CloudFormationValidatePlugin {
  private pool: ValidationWorker[] = [];
  private currentEngine: Engine;

  /**
   * Starts the workers (and so the engines) at once: create this before constructing the stages.
   * One worker by default: its engine builds on the second core while the app is constructed, at no
   * extra CPU. A second one halves validation but builds a second engine (~1.5 s CPU), which on a
   * busy 2-core machine slowed construction more than it saved (numbers in the habits note of issue 14), so only from
   * four cores on.
   */
  constructor(private readonly workerCount = os.availableParallelism() >= 4 ? 2 : 1) {
    super();
    this.pool = this.startWorkers();
    this.currentEngine = this.recordingEngine([]);
    // Replaces the stock plugin's private engine factory; `validate` below decides what it returns.
    Object.defineProperty(this, 'initializeEngine', { value: () => this.currentEngine });
  }

  public override validate(context: IPolicyValidationContext): PolicyValidationPluginReport {
    const requests: ValidateRequest[] = [];
    this.currentEngine = this.recordingEngine(requests);
    super.validate(context);
    if (this.pool.length === 0) this.pool = this.startWorkers();
    const reports = this.validateInWorkers(requests);
    // Each engine holds a few hundred MB; a later synth of the same app starts new ones.
    this.stopWorkers();
    let next = 0;
    this.currentEngine = { validateTemplate: () => reports[next++] };
    return super.validate(context);
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

  /** Largest templates first, each to the least loaded worker; answers in request order. */
  private validateInWorkers(requests: ValidateRequest[]): Report[] {
    const shares = this.pool.map(() => ({ indices: [] as number[], bytes: 0 }));
    const bySize = requests.map((r, i) => ({ i, bytes: r.content.length })).sort((a, b) => b.bytes - a.bytes);
    for (const { i, bytes } of bySize) {
      const share = shares.reduce((least, s) => (s.bytes < least.bytes ? s : least));
      share.indices.push(i);
      share.bytes += bytes;
    }
    const pending = shares.map((share, w) => ({ share, collect: this.pool[w].send(share.indices.map((i) => requests[i])) }));
    const reports: Report[] = new Array(requests.length);
    for (const { share, collect } of pending) {
      const answers = collect();
      share.indices.forEach((requestIndex, k) => {
        reports[requestIndex] = answers[k];
      });
    }
    return reports;
  }
}
