/**
 * Preload for measuring a child process's peak memory: `node --import tsx --import bench/lib/report-maxrss.ts ...`
 * writes process.resourceUsage().maxRSS (KB) to $BENCH_MAXRSS_FILE when the process exits.
 */
import { writeFileSync } from 'node:fs';

const file = process.env.BENCH_MAXRSS_FILE;
if (file) process.on('exit', () => writeFileSync(file, String(process.resourceUsage().maxRSS)));
