#!/usr/bin/env node
// Installed entry point: runs the compiled CLI (npm run build). From a checkout use `npm run provisio -- ARGS`.
import '../dist/cli/main.js';
