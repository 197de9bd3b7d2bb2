/** user writes of the simulator (see writes.ts): none yet. */
import type { WriteHandler } from './writes.js';

export const userWrites: WriteHandler = () => undefined;
