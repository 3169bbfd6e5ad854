"""A ``Server-Timing`` header on every response: how long Django took, without the network.

Browsers' developer tools show it next to each request, and the benchmark reads it to report
server time apart from the time its own load generator spends on the same CPU.
"""

import time


def server_timing(get_response):
    def middleware(request):
        started = time.perf_counter()
        response = get_response(request)
        response["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
        return response

    return middleware
