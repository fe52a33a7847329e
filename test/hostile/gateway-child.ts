/**
 * The gateway under test in a process of its own, for the cases that may kill or freeze it
 * (a crash must show as a failed test, not end the test run; a blocked event loop must not stop
 * the test's own timers). Options come as JSON in argv[2]; the parent talks over IPC.
 * Nothing here catches an uncaught exception: dying is exactly what the parent watches for.
 */
import { startGateway, type GatewayOptions } from '@postern/server';

const options = JSON.parse(process.argv[2] ?? '{}') as GatewayOptions;
const gw = await startGateway(options);
process.on('message', (msg: { type: string; id?: number }) => {
  if (msg.type === 'ping') process.send!({ type: 'pong', id: msg.id });
  else if (msg.type === 'close') void gw.close().then(() => process.exit(0));
});
// The parent went away: nothing is left to test.
process.on('disconnect', () => process.exit(0));
process.send!({ type: 'ready', ports: gw.ports, certificatePem: gw.certificatePem });
