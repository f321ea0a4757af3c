import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/*
 * CPU and memory of a server's whole process tree, read from /proc. A server may be several processes (a
 * node:cluster primary and its workers, uvicorn's supervisor and its workers), so every figure sums the root pid
 * and all of its descendants, found through the ppid field of /proc/<pid>/stat.
 */

/** Kernel clock ticks per second, the unit of utime/stime in /proc/<pid>/stat (almost always 100). */
export const CLOCK_TICKS = readClockTicks();

function readClockTicks(): number {
  try {
    const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    if (Number.isFinite(ticks) && ticks > 0) return ticks;
  } catch {
    // getconf is part of libc-bin and always present on Debian; 100 is the Linux default if it is not.
  }
  return 100;
}

export interface ProcStat {
  pid: number;
  ppid: number;
  /** Process group: a server spawned `detached` leads its own group, which its descendants stay in. */
  pgrp: number;
  /** `Z` is a zombie: exited but not yet reaped by its parent. */
  state: string;
  /**
   * utime + stime + cutime + cstime in ticks: CPU of every thread of the process, plus that of children it has
   * already reaped. Counting reaped children keeps a tree's total from dropping when a worker exits mid-run.
   */
  ticks: number;
}

export function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // the process exited between listing /proc and reading it
  }
  // Field 2 (comm) is in parentheses and may itself contain spaces or ')': fields 3… start after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const field = (n: number) => Number(fields[n - 3]);
  return {
    pid,
    state: fields[0],
    ppid: field(4),
    pgrp: field(5),
    ticks: field(14) + field(15) + field(16) + field(17),
  };
}

function allProcesses(): ProcStat[] {
  const stats: ProcStat[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat) stats.push(stat);
  }
  return stats;
}

/**
 * The root and every descendant. Zombies stay in: their CPU is not yet in the parent's cutime, and they have no RSS.
 */
export function processTree(root: number): ProcStat[] {
  const all = allProcesses();
  const byParent = new Map<number, ProcStat[]>();
  for (const stat of all) byParent.set(stat.ppid, [...(byParent.get(stat.ppid) ?? []), stat]);
  const rootStat = all.find((s) => s.pid === root);
  if (!rootStat) return [];
  const tree = [rootStat];
  for (let i = 0; i < tree.length; i++) tree.push(...(byParent.get(tree[i].pid) ?? []));
  return tree;
}

/** CPU seconds the tree has consumed so far; the difference of two readings is the CPU of what ran between. */
export function treeCpuSeconds(root: number): number {
  return processTree(root).reduce((sum, s) => sum + s.ticks, 0) / CLOCK_TICKS;
}

/** Resident memory of the tree, summed (shared pages of forked workers count once per process, as `ps` shows). */
export function treeRssMb(root: number): number {
  let kb = 0;
  for (const { pid } of processTree(root)) {
    try {
      kb += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // exited while we were reading
    }
  }
  return kb / 1024;
}

/** Whether any live (non-zombie) process is still in the process group. */
export function groupAlive(pgid: number): boolean {
  return allProcesses().some((s) => s.pgrp === pgid && s.state !== 'Z');
}
