import type { FastifyReply, FastifyRequest } from "fastify";
import { describe, expect, it } from "vitest";
import { AppError } from "../core/errors.js";
import { sendProblem } from "./problem.js";

/** A request whose log records the messages, and a reply that records the status. */
function exchange() {
  const logged: { level: string; msg: string }[] = [];
  const log = Object.fromEntries(
    ["warn", "info", "error"].map((level) => [
      level,
      (_obj: unknown, msg: string) => logged.push({ level, msg }),
    ]),
  );
  const reply = {
    sent: 0,
    status(code: number) {
      this.sent = code;
      return this;
    },
    type() {
      return this;
    },
    send() {
      return this;
    },
  };
  return { logged, request: { log } as unknown as FastifyRequest, reply };
}

describe("sendProblem", () => {
  it("logs a state that refuses requests once, not once per readiness probe", () => {
    const { logged, request, reply } = exchange();
    const notReady = () => new AppError("MODEL_NOT_READY", `no model serves "m-${process.pid}"`);
    for (let i = 0; i < 5; i++) sendProblem(notReady(), request, reply as unknown as FastifyReply);
    expect(reply.sent).toBe(503);
    expect(logged).toEqual([{ level: "warn", msg: "request not served" }]);
    // Another state is news of its own; faults are logged every time.
    sendProblem(new AppError("MODEL_NOT_READY", "another model"), request, reply as never);
    sendProblem(new Error("boom"), request, reply as never);
    sendProblem(new Error("boom"), request, reply as never);
    expect(logged.map((l) => l.msg)).toEqual([
      "request not served",
      "request not served",
      "request failed",
      "request failed",
    ]);
  });
});
