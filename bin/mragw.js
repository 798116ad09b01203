#!/usr/bin/env node
// Runs the compiled command line (npm install builds dist/ through the prepare script).
import '../dist/cli/mragw.js';
