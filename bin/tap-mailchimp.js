#!/usr/bin/env node
import { main } from "../dist/taps/mailchimp/main.js";

main(process.argv);
