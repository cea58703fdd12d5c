#!/usr/bin/env node
import { main } from "../dist/targets/mailchimp/main.js";

main(process.argv);
