/**
 * A bench load generator in a process of its own (smtp-client-child.ts, tls-client-child.ts),
 * asked over IPC one question at a time. The child module calls `serveIpc` at its top level;
 * the bench process starts it with `IpcChild.start(import.meta.url)`.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

const SERVE_FLAG = '--serve';

/** The child, seen from the bench process. */
export class IpcChild<Ask, Reply> {
  private constructor(
    private readonly child: ChildProcess,
    private readonly label: string,
  ) {}

  static start<Ask, Reply>(moduleUrl: string, label: string): IpcChild<Ask, Reply> {
    const child = fork(new URL(moduleUrl), [SERVE_FLAG], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new IpcChild<Ask, Reply>(child, label);
  }

  async ask(question: Ask): Promise<Reply> {
    this.child.send(question as object);
    const [reply] = (await once(this.child, 'message')) as [Reply | { error: string }];
    if (reply && typeof reply === 'object' && 'error' in reply)
      throw new Error(`${this.label}: ${reply.error}`);
    return reply as Reply;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    this.child.kill();
    await once(this.child, 'exit');
  }
}

/** In the child: answer each question with `answer`, and exit when the bench process goes. */
export function serveIpc<Ask, Reply>(answer: (question: Ask) => Promise<Reply>): void {
  if (!process.argv.includes(SERVE_FLAG) || !process.send) return;
  process.on('disconnect', () => process.exit(0));
  const reply = (m: Reply | { error: string }) => {
    if (process.connected) process.send!(m);
  };
  process.on('message', (m: Ask) => {
    answer(m).then(reply, (err: Error) => reply({ error: err.message }));
  });
}
