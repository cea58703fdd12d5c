#!/usr/bin/env node
import '../dist/sandbox/main.js';
