#!/usr/bin/env bash
# Regenerates the console screenshots in docs/images/ (light and dark) by running the browser test
# that visits every page. Needs /usr/bin/chromium (scripts/install-test-deps.sh installs it).
set -euo pipefail
cd "$(dirname "$0")/.."
CONSOLE_SCREENSHOTS="$PWD/docs/images" dotnet test tests/Console.Tests -nologo \
  --filter "FullyQualifiedName~Pages_EveryPage_RendersInLightAndDarkAndIsScreenshotted|FullyQualifiedName~WebUiTests"
ls docs/images/console-*.png docs/images/webui.png
