#!/usr/bin/env node
import { main } from "../dist/taps/mixpanel/main.js";

main(process.argv);
