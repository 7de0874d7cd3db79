"""The cloud's disks in the cluster: a CSI driver's controller side, and the attach/detach controller.

``driver``: the CSI controller service of ``disk.csi.sim.local`` over the
simulated cloud's disks (CreateVolume, DeleteVolume, ControllerPublishVolume,
ControllerUnpublishVolume). ``provisioner``: the external-provisioner
(PersistentVolumes for claims of a StorageClass naming the driver).
``attachdetach``: kube-controller-manager's attach/detach controller
(VolumeAttachment objects for the volumes of the pods on each node, and
``node.status.volumesAttached``). ``attacher``: the external-attacher (calls
ControllerPublish / Unpublish for each VolumeAttachment and reports the
result in its status).
"""
