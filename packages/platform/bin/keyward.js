#!/usr/bin/env node
// The admin CLI; `npm ci` builds dist/ through the root `prepare` script.
import '../dist/cli/main.js';
