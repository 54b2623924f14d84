/**
 * The function's memory size from the measured CPU per pass: Lambda gives a function CPU in proportion to
 * its memory (one full vCPU at 1,769 MB) and bills memory x duration. A pass is a chain of AWS round
 * trips (waiting, which more memory does not shorten) and CPU work (parsing the SDK's answers, planning),
 * which it does. The table estimates, per memory size, a pass's duration and its cost from the figures of
 * bench/scale.ts.
 */
import type { ScenarioResult } from './scale';

/** Memory at which a function has one full vCPU (AWS Lambda documentation). */
export const FULL_VCPU_MB = 1769;
/** Price of a GB-second on arm64 (the functions' architecture), us-east-1. */
export const PRICE_PER_GB_SECOND = 0.0000133334;
/** Memory sizes compared. */
export const MEMORY_SIZES_MB = [512, 1024, 1769, 3008] as const;
/** What one AWS round trip costs in the estimate (the latency the proxy adds). */
export const ROUND_TRIP_MS = 40;

/**
 * A pass's duration at `memoryMb`: its CPU time stretched by the vCPU share (never faster than one vCPU:
 * the pass is one Node.js thread), plus its round trips.
 */
export function passDurationMs(cpuMs: number, roundTrips: number, memoryMb: number): number {
  const share = Math.min(1, memoryMb / FULL_VCPU_MB);
  return cpuMs / share + roundTrips * ROUND_TRIP_MS;
}

/** The cost of one pass at `memoryMb`, in USD (duration billed per ms). */
export function passCostUsd(durationMs: number, memoryMb: number): number {
  return (memoryMb / 1024) * (durationMs / 1000) * PRICE_PER_GB_SECOND;
}

/** The "Memory size" section of the report. */
export function renderMemory(scale: readonly ScenarioResult[]): string[] {
  const rows = scale.filter((r) => r.scenario === 'converge from empty' || r.scenario === 'no-op');
  const lines: string[] = [];
  lines.push('## Memory size: a pass at each memory size (estimate from the CPU measured above)', '');
  lines.push(
    `Duration = CPU time x ${FULL_VCPU_MB} / memory (at most one vCPU) + round trips x ${ROUND_TRIP_MS} ms; cost = memory x duration at $${PRICE_PER_GB_SECOND} per GB-s (arm64), per 10,000 passes. The CPU is this machine's core; a Lambda vCPU is of the same order.`,
    '',
  );
  lines.push(
    `| Nodes | Pass | CPU (ms) | Round trips | ${MEMORY_SIZES_MB.map((m) => `${m} MB: ms / $`).join(' | ')} |`,
    `| ---: | --- | ---: | ---: | ${MEMORY_SIZES_MB.map(() => '---:').join(' | ')} |`,
  );
  for (const r of rows) {
    const cells = MEMORY_SIZES_MB.map((m) => {
      const ms = passDurationMs(r.cpuMs, r.roundTrips, m);
      return `${ms.toFixed(0)} / ${(passCostUsd(ms, m) * 10_000).toFixed(3)}`;
    });
    lines.push(
      `| ${r.nodes} | ${r.label} | ${r.cpuMs.toFixed(0)} | ${r.roundTrips} | ${cells.join(' | ')} |`,
    );
  }
  lines.push('');
  return lines;
}
