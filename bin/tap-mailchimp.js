#!/usr/bin/env node
// V8's heap settings first: the young generation is sized while the modules load.
import { keepHeapNearLiveSize } from "../dist/util/heap.js";

keepHeapNearLiveSize();
const { main } = await import("../dist/taps/mailchimp/main.js");
main(process.argv);
