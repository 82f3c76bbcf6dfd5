import { Listr, ListrLogger, PRESET_TIMER, ProcessOutput } from 'listr2';

/** One unit of work shown as a line of the task list while it runs. */
export interface ProgressTask<T> {
  /** Shown while the task runs. */
  readonly title: string;
  readonly run: () => Promise<T>;
  /** The line left behind when the task ends. */
  readonly done: (result: T) => string;
}

export interface ProgressOptions {
  /** No task list at all (`--json`, tests). */
  readonly quiet: boolean;
  /** Where the task list goes; stderr keeps stdout for the table or JSON. @default process.stderr */
  readonly stream?: NodeJS.WriteStream;
}

/**
 * Runs tasks concurrently under a listr2 task list with the elapsed time of each, and returns
 * their results in the order given. listr2 picks its interactive renderer on a TTY and falls back
 * to one line per event elsewhere (CI logs). A task that throws rejects the whole run.
 */
export async function runWithProgress<T>(tasks: ReadonlyArray<ProgressTask<T>>, options: ProgressOptions): Promise<T[]> {
  const results: T[] = new Array<T>(tasks.length);
  const stream = options.stream ?? process.stderr;
  const processOutput = new ProcessOutput(stream, stream);
  const list = new Listr(
    tasks.map((task, index) => ({
      title: task.title,
      task: async (_ctx: unknown, wrapper: { title: string }) => {
        const result = await task.run();
        results[index] = result;
        wrapper.title = task.done(result);
      },
    })),
    {
      concurrent: true,
      exitOnError: true,
      registerSignalListeners: false,
      silentRendererCondition: options.quiet,
      rendererOptions: { logger: new ListrLogger({ processOutput }), timer: PRESET_TIMER, collapseErrors: false },
      fallbackRendererOptions: { logger: new ListrLogger({ processOutput }), timer: PRESET_TIMER },
    },
  );
  await list.run();
  return results;
}
