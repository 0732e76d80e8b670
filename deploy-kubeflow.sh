#!/usr/bin/env bash
# Kubeflow 26.03 on GKE: project robot-ml-demo, zone us-central1-a, cluster kubeflow.
# The GPU pool scales from 0: no GPU node (and no GPU cost) until a pod asks for a GPU.
set -euo pipefail

# 1. The cluster with its CPU pool, Workload Identity and auto-provisioning limits.
gcloud container clusters create kubeflow \
    --project=robot-ml-demo --zone=us-central1-a --node-locations=us-central1-a \
    --release-channel=regular \
    --workload-pool=robot-ml-demo.svc.id.goog \
    --machine-type=e2-standard-8 --num-nodes=2 \
    --enable-autoscaling --min-nodes=1 --max-nodes=4 \
    --enable-autoprovisioning --max-cpu=36 --max-memory=144 --max-accelerator=type=nvidia-tesla-t4,count=1

# 2. The GPU pool: autoscales from 0, GKE installs the NVIDIA driver and taints the nodes
#    nvidia.com/gpu=present:NoSchedule (pods that request nvidia.com/gpu get the toleration automatically).
gcloud container node-pools create gpu-pool \
    --project=robot-ml-demo --zone=us-central1-a --cluster=kubeflow \
    --machine-type=n1-standard-4 --node-locations=us-central1-a \
    --accelerator=type=nvidia-tesla-t4,count=1,gpu-driver-version=default \
    --enable-autoscaling --num-nodes=0 --min-nodes=0 --max-nodes=1

# 3. Credentials for kubectl (context gke_robot-ml-demo_us-central1-a_kubeflow).
gcloud container clusters get-credentials kubeflow --project=robot-ml-demo --zone=us-central1-a

# 4. Kubeflow: the GKE Istio overlay first, then everything, retrying until the CRDs settle.
cd tests/data/kustomize/kubeflow-mini
while ! kustomize build common/istio/istio-install/overlays/gke | kubectl apply --server-side --force-conflicts -f -; do sleep 20; done
while ! kustomize build example | kubectl apply --server-side --force-conflicts -f -; do echo 'Retrying to apply resources'; sleep 20; done

# 5. Open Kubeflow, then browse http://localhost:8080 (Dex login; kftui replaces the default password).
kubectl port-forward svc/istio-ingressgateway -n istio-system 8080:80
