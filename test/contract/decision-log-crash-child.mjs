// Child process of the decision-log crash test: logs decisions from concurrent producers
// through DecisionLog (compiled code in dist/) and prints each id once its append resolved,
// until the test kills it with SIGKILL. Usage: node decision-log-crash-child.mjs <database-url>
const { openDatabase } = await import("../../dist/storage/index.js");
const { newDecisionId, openDecisionLog } = await import("../../dist/decisions/index.js");

const database = await openDatabase(process.argv[2]);
const log = await openDecisionLog(database);
const PRODUCERS = 32;

async function produce(p) {
  for (let i = 0; ; i++) {
    const id = newDecisionId();
    await log.append({
      id,
      createdAt: Date.now(),
      requestId: `crash-${p}-${i}`,
      batchId: null,
      rowNumber: null,
      source: "api",
      modelName: "credit",
      modelVersion: 1,
      input: { duration: 6, credit_amount: 1169, age: 67, purpose: "radio/tv" },
      risk: "good",
      probabilityBad: 0.2,
      confidence: 0.8,
      threshold: 0.5,
      reasons: ["duration is short"],
    });
    process.stdout.write(`${id}\n`);
  }
}

process.stdout.write("ready\n");
await Promise.all(Array.from({ length: PRODUCERS }, (_, p) => produce(p)));
