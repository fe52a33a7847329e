'use strict';
// Mocha's spec reporter, plus the closing line CI reads: `N passed, N failed, N skipped`.
// A skipped test prints its reason (the `this.skip()` callers put it in the title path via ctx).
const Mocha = require('mocha');
const { Spec } = Mocha.reporters;
const { EVENT_RUN_END, EVENT_TEST_PASS, EVENT_TEST_FAIL, EVENT_TEST_PENDING, EVENT_HOOK_END } =
  Mocha.Runner.constants;

class PosternReporter extends Spec {
  constructor(runner, options) {
    super(runner, options);
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    runner.on(EVENT_TEST_PASS, () => passed++);
    runner.on(EVENT_TEST_FAIL, () => failed++);
    runner.on(EVENT_TEST_PENDING, () => skipped++);
    runner.once(EVENT_RUN_END, () => {
      // Printed after the spec summary; CI fails the run on any skip.
      process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped} skipped\n`);
    });
    void EVENT_HOOK_END;
  }
}
module.exports = PosternReporter;
