"""placeholder"""
def run_describe(invocation):
    return ""
def pod_template_text(t):
    return ""
