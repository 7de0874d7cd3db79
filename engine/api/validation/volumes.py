"""Volumes: a pod's volume sources, as ``ValidateVolumes`` checks them.

Mirrors the volume part of ``pkg/apis/core/validation``: exactly one source
per volume, a DNS-1123 label for a name, unique names, and the checks of the
common sources (emptyDir, hostPath, secret, configMap, persistentVolumeClaim,
nfs, downwardAPI, projected), file modes included.

``validate_volumes`` returns the valid volumes by name, as Go does, so that a
container's volumeMounts are checked only against volumes that passed.
"""

from __future__ import annotations

from typing import Mapping

from engine.api.validation.fields import Errors, child, get_int, get_items, get_string
from engine.api.validation.formats import is_dns1123_label
from engine.api.validation.resources import parse_resource_quantity

_VOLUME_SOURCES = (
    "emptyDir", "hostPath", "gitRepo", "gcePersistentDisk", "awsElasticBlockStore", "secret", "nfs", "iscsi",
    "glusterfs", "flocker", "persistentVolumeClaim", "rbd", "cinder", "cephfs", "quobyte", "downwardAPI", "fc",
    "flexVolume", "configMap", "azureFile", "vsphereVolume", "photonPersistentDisk", "portworxVolume", "azureDisk",
    "storageos", "projected", "scaleIO", "csi", "ephemeral", "image",
)
_FILE_MODE_MSG = "must be a number between 0 and 0777 (octal), both inclusive"


def _file_mode(errs: Errors, holder: Mapping, field_name: str, path: str) -> None:
    mode = get_int(errs, holder, field_name, child(path, field_name))
    if mode is not None and not 0 <= mode <= 0o777:
        errs.invalid(child(path, field_name), mode, _FILE_MODE_MSG)


def _key_to_path_items(errs: Errors, source: Mapping, path: str) -> None:
    for _, item, item_path in get_items(errs, source, "items", child(path, "items")):
        k = get_string(errs, item, "key", child(item_path, "key"))
        if not k:
            errs.required(child(item_path, "key"))
        p = get_string(errs, item, "path", child(item_path, "path"))
        if not p:
            errs.required(child(item_path, "path"))
        elif p.startswith("/"):
            errs.invalid(child(item_path, "path"), p, "must be a relative path")
        elif ".." in p.split("/"):
            errs.invalid(child(item_path, "path"), p, "must not contain '..'")
        _file_mode(errs, item, "mode", item_path)


def _validate_volume_source(errs: Errors, volume: dict, path: str) -> None:
    present = [s for s in _VOLUME_SOURCES if volume.get(s) is not None]
    for extra in present[1:]:
        errs.forbidden(child(path, extra), "may not specify more than 1 volume type")
    if not present:
        errs.required(path, "must specify a volume type")
        return
    source_name = present[0]
    source = volume[source_name]
    spath = child(path, source_name)
    if not isinstance(source, dict):
        errs.type_invalid(spath, source, "object")
        return
    if source_name == "emptyDir" and source.get("sizeLimit") is not None:
        q = parse_resource_quantity(errs, source["sizeLimit"], child(spath, "sizeLimit"))
        if q is not None and q.sign() < 0:
            errs.forbidden(child(spath, "sizeLimit"), "SizeLimit field must be a valid resource quantity")
    elif source_name == "hostPath":
        if not get_string(errs, source, "path", child(spath, "path")):
            errs.required(child(spath, "path"))
        kinds = ("", "DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket", "CharDevice", "BlockDevice")
        if source.get("type") not in (None,) + kinds:
            errs.not_supported(child(spath, "type"), source.get("type"), kinds)
    elif source_name == "secret":
        if not get_string(errs, source, "secretName", child(spath, "secretName")):
            errs.required(child(spath, "secretName"))
        _file_mode(errs, source, "defaultMode", spath)
        _key_to_path_items(errs, source, spath)
    elif source_name == "configMap":
        if not get_string(errs, source, "name", child(spath, "name")):
            errs.required(child(spath, "name"))
        _file_mode(errs, source, "defaultMode", spath)
        _key_to_path_items(errs, source, spath)
    elif source_name == "persistentVolumeClaim":
        if not get_string(errs, source, "claimName", child(spath, "claimName")):
            errs.required(child(spath, "claimName"))
    elif source_name == "nfs":
        if not get_string(errs, source, "server", child(spath, "server")):
            errs.required(child(spath, "server"))
        nfs_path = get_string(errs, source, "path", child(spath, "path"))
        if not nfs_path:
            errs.required(child(spath, "path"))
        elif not nfs_path.startswith("/"):
            errs.invalid(child(spath, "path"), nfs_path, "must be an absolute path")
    elif source_name in ("downwardAPI", "projected"):
        _file_mode(errs, source, "defaultMode", spath)


def validate_volumes(errs: Errors, spec: Mapping, path: str) -> dict[str, dict]:
    """ValidateVolumes: the volumes by name (only the valid ones, as Go keeps them)."""
    names: dict[str, dict] = {}
    for _, vol, vol_path in get_items(errs, spec, "volumes", path):
        local = Errors()
        _validate_volume_source(local, vol, vol_path)
        name = get_string(local, vol, "name", child(vol_path, "name"))
        if not name:
            local.required(child(vol_path, "name"))
        else:
            for msg in is_dns1123_label(name):
                local.invalid(child(vol_path, "name"), name, msg)
        if name in names:
            local.duplicate(child(vol_path, "name"), name)
        if local:
            errs.extend(local)
        else:
            names[name] = vol
    return names
