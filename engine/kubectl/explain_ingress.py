"""``kubectl explain`` tables for Ingress and IngressClass (networking.k8s.io/v1).

Interface: ``TYPES`` (type name to description and ``(field, type,
description)`` fields, the shape of ``engine.kubectl.explain.TYPES``, which
merges them), ``KIND_DESCRIPTIONS``, ``REQUIRED`` (the fields the API schema
marks required) and ``NETWORKING_TYPES`` (the types that live in the
``networking.k8s.io`` package, for the OpenAPI definition names). Descriptions
are the Kubernetes API reference's, shortened where they run long.
"""

from __future__ import annotations

_BACKEND_ONE_OF = "This is a mutually exclusive setting with"

TYPES: dict[str, tuple[str, list[tuple[str, str, str]]]] = {
    "IngressSpec": ("IngressSpec describes the Ingress the user wishes to exist.", [
        ("defaultBackend", "IngressBackend", "defaultBackend is the backend that should handle requests that don't "
         "match any rule. If Rules are not specified, DefaultBackend must be specified. If DefaultBackend is not "
         "set, the handling of requests that do not match any of the rules will be up to the Ingress controller."),
        ("ingressClassName", "string", "ingressClassName is the name of an IngressClass cluster resource. Ingress "
         "controller implementations use this field to know whether they should be serving this Ingress resource, "
         "by a transitive connection (controller -> IngressClass -> Ingress resource)."),
        ("rules", "[]IngressRule", "rules is a list of host rules used to configure the Ingress. If unspecified, "
         "or no rule matches, all traffic is sent to the default backend."),
        ("tls", "[]IngressTLS", "tls represents the TLS configuration. Currently the Ingress only supports a single "
         "TLS port, 443."),
    ]),
    "IngressRule": ("IngressRule represents the rules mapping the paths under a specified host to the related "
                    "backend services. Incoming requests are first evaluated for a host match, then routed to the "
                    "backend associated with the matching IngressRuleValue.", [
                        ("host", "string", "host is the fully qualified domain name of a network host, as defined "
                         "by RFC 3986. If the host is unspecified, the Ingress routes all traffic based on the "
                         "specified IngressRuleValue. host can be \"precise\" (a domain name without the "
                         "terminating dot) or a \"wildcard\" (a domain name prefixed with a single wildcard label, "
                         "e.g. \"*.foo.com\")."),
                        ("http", "HTTPIngressRuleValue", ""),
                    ]),
    "HTTPIngressRuleValue": ("HTTPIngressRuleValue is a list of http selectors pointing to backends.", [
        ("paths", "[]HTTPIngressPath", "paths is a collection of paths that map requests to backends."),
    ]),
    "HTTPIngressPath": ("HTTPIngressPath associates a path with a backend. Incoming urls matching the path are "
                        "forwarded to the backend.", [
                            ("backend", "IngressBackend", "backend defines the referenced service endpoint to which "
                             "the traffic will be forwarded to."),
                            ("path", "string", "path is matched against the path of an incoming request. Paths "
                             "must begin with a '/' and must be present when using PathType with value \"Exact\" or "
                             "\"Prefix\"."),
                            ("pathType", "string", "pathType determines the interpretation of the path matching. "
                             "Exact matches the URL path exactly; Prefix matches based on a URL path prefix split "
                             "by '/', element by element; ImplementationSpecific leaves the matching to the "
                             "IngressClass."),
                        ]),
    "IngressBackend": ("IngressBackend describes all endpoints for a given service and port.", [
        ("resource", "TypedLocalObjectReference", "resource is an ObjectRef to another Kubernetes resource in the "
         f"namespace of the Ingress object. {_BACKEND_ONE_OF} \"Service\"."),
        ("service", "IngressServiceBackend", f"service references a service as a backend. {_BACKEND_ONE_OF} "
         "\"Resource\"."),
    ]),
    "IngressServiceBackend": ("IngressServiceBackend references a Kubernetes Service as a Backend.", [
        ("name", "string", "name is the referenced service. The service must exist in the same namespace as the "
         "Ingress object."),
        ("port", "ServiceBackendPort", "port of the referenced service. A port name or port number is required for "
         "a IngressServiceBackend."),
    ]),
    "ServiceBackendPort": ("ServiceBackendPort is the service port being referenced.", [
        ("name", "string", f"name is the name of the port on the Service. {_BACKEND_ONE_OF} \"Number\"."),
        ("number", "integer", f"number is the numerical port number (e.g. 80) on the Service. {_BACKEND_ONE_OF} "
         "\"Name\"."),
    ]),
    "IngressTLS": ("IngressTLS describes the transport layer security associated with an ingress.", [
        ("hosts", "[]string", "hosts is a list of hosts included in the TLS certificate. The values in this list "
         "must match the name/s used in the tlsSecret."),
        ("secretName", "string", "secretName is the name of the secret used to terminate TLS traffic on port 443. "
         "Field is left optional to allow TLS routing based on SNI hostname alone."),
    ]),
    "IngressStatus": ("IngressStatus describe the current state of the Ingress.", [
        ("loadBalancer", "IngressLoadBalancerStatus", "loadBalancer contains the current status of the "
         "load-balancer."),
    ]),
    "IngressClassSpec": ("IngressClassSpec provides information about the class of an Ingress.", [
        ("controller", "string", "controller refers to the name of the controller that should handle this class. "
         "This should be specified as a domain-prefixed path no more than 250 characters in length, e.g. "
         "\"acme.io/ingress-controller\". This field is immutable."),
        ("parameters", "IngressClassParametersReference", "parameters is a link to a custom resource containing "
         "additional configuration for the controller. This is optional if the controller does not require extra "
         "parameters."),
    ]),
}

KIND_DESCRIPTIONS = {
    "Ingress": "Ingress is a collection of rules that allow inbound connections to reach the endpoints defined by "
               "a backend. An Ingress can be configured to give services externally-reachable urls, load balance "
               "traffic, terminate SSL, offer name based virtual hosting etc.",
    "IngressClass": "IngressClass represents the class of the Ingress, referenced by the Ingress Spec. The "
                    "`ingressclass.kubernetes.io/is-default-class` annotation can be used to indicate that an "
                    "IngressClass should be considered default.",
}

REQUIRED = {"HTTPIngressRuleValue": ["paths"], "HTTPIngressPath": ["backend", "pathType"],
            "IngressServiceBackend": ["name"]}

NETWORKING_TYPES = ("IngressRule", "HTTPIngressRuleValue", "HTTPIngressPath", "IngressBackend",
                    "IngressServiceBackend", "ServiceBackendPort", "IngressTLS", "IngressLoadBalancerStatus",
                    "IngressClassParametersReference")
