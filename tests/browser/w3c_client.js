// The outside W3C client of test_w3c_anchoring.py: Apache Annotator's DOM matchers, which esbuild
// bundles into one script that sets window.ApacheAnnotator. The test hands the bundle to the
// browser as an init script, so no page's Content Security Policy is loosened for it.
import { createTextPositionSelectorMatcher, createTextQuoteSelectorMatcher } from "@apache-annotator/dom";

window.ApacheAnnotator = { createTextPositionSelectorMatcher, createTextQuoteSelectorMatcher };
