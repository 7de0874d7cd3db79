"""The simulated cloud provider (see ``cloud``): what the cloud-controller-manager talks to."""

from engine.cloud.provider.cloud import SimCloud
from engine.cloud.provider.compute import REGION, ZONES, Instance, instance_type_for, parse_provider_id
from engine.cloud.provider.errors import (CloudError, CloudNotFound, InternalError, RequestLimitExceeded,
                                          RequestTimeout)
from engine.cloud.provider.network import HealthCheck, Listener, LoadBalancer, Route
from engine.cloud.provider.storage import Attachment, Disk

__all__ = ["SimCloud", "REGION", "ZONES", "Instance", "instance_type_for", "parse_provider_id", "CloudError",
           "CloudNotFound", "InternalError", "RequestLimitExceeded", "RequestTimeout", "HealthCheck", "Listener",
           "LoadBalancer", "Route", "Attachment", "Disk"]
