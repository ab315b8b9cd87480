"""The PyTorch reference of muon's transformer (model/model.c), written from
scratch with the same math, float32, for golden data.

Importable by other golden scripts:

    import torch_model as tm
    cfg = tm.config("tiny", ffn="swiglu")        # dict, same keys as muon_config
    model = tm.build(cfg)                         # nn.Module, parameters named as in C
    tm.init_(model, cfg, seed)                    # N(0, init_std^2) matrices, gains 1
    tm.load(model, tensors)                       # {name: numpy array} -> parameters
    tensors = tm.weights(model)                   # parameters by name, gains 1-D
    tm.save_safetensors(model, path) / tm.load_safetensors(model, path)
    grads = tm.grads(model)                       # .grad by name, gains 1-D
    logits, loss = model(tokens, targets)         # tokens, targets: (B,T) int64

Parameter names are exactly muon's (and its checkpoints'): embed.weight,
layers.{i}.attn_norm.weight, layers.{i}.attn.{q,k,v,o}.weight (or
layers.{i}.attn.qkvo.weight when merged_qkvo), layers.{i}.attn.q_norm.weight,
layers.{i}.attn.k_norm.weight, layers.{i}.ffn_norm.weight,
layers.{i}.ffn.{up,down,gate}.weight, norm.weight, head.weight (untied only).
"""
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

PRESETS = {
    "nano": dict(vocab_size=256, d_model=128, n_layers=8, n_heads=4, n_kv_heads=2,
                 d_ff=512, seq_len=128, batch_size=16),
    "tiny": dict(vocab_size=256, d_model=32, n_layers=2, n_heads=4, n_kv_heads=2,
                 d_ff=64, seq_len=16, batch_size=2),
    "blueberry-nano": dict(vocab_size=256, d_model=512, n_layers=22, n_heads=8, n_kv_heads=4,
                           d_ff=2048, seq_len=2048, batch_size=1),
}
COMMON = dict(ffn="relu2", untied_head=0, merged_qkvo=0, rope_base=10000.0,
              norm_eps=1e-6, init_std=0.02)


def config(name="nano", **overrides):
    """The named config (as muon_config_named) with keyword overrides."""
    cfg = dict(COMMON)
    cfg.update(PRESETS[name])
    for k, v in overrides.items():
        if k not in cfg:
            raise KeyError(k)
        cfg[k] = v
    return cfg


class RMSNorm(nn.Module):
    """y = x / sqrt(mean(x^2) + eps) * g (torch 1.13 has no nn.RMSNorm)."""

    def __init__(self, n, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(n))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope_tables(T, hs, base):
    """cos, sin (T, hs/2) for pairs (2i, 2i+1): angle t * base^(-2i/hs),
    computed in float64 and rounded once (as model/rope.c)."""
    i = np.arange(hs // 2, dtype=np.float64)
    theta = np.power(float(base), -2.0 * i / hs)
    ang = np.arange(T, dtype=np.float64)[:, None] * theta[None, :]
    return (torch.from_numpy(np.cos(ang).astype(np.float32)),
            torch.from_numpy(np.sin(ang).astype(np.float32)))


def apply_rope(x, cos, sin):
    """x (B,H,T,hs): rotate interleaved pairs (x[2i], x[2i+1])."""
    x0, x1 = x[..., 0::2], x[..., 1::2]
    c, s = cos[: x.shape[2]], sin[: x.shape[2]]
    return torch.stack((x0 * c - x1 * s, x0 * s + x1 * c), dim=-1).flatten(-2)


class Attention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        C, nh, nkv = cfg["d_model"], cfg["n_heads"], cfg["n_kv_heads"]
        self.nh, self.nkv, self.hs = nh, nkv, C // nh
        self.merged = bool(cfg["merged_qkvo"])
        if self.merged:
            self.qkvo = nn.Linear(C, (nh + 2 * nkv) * self.hs + C, bias=False)
        else:
            self.q = nn.Linear(C, nh * self.hs, bias=False)
            self.k = nn.Linear(C, nkv * self.hs, bias=False)
            self.v = nn.Linear(C, nkv * self.hs, bias=False)
            self.o = nn.Linear(nh * self.hs, C, bias=False)
        self.q_norm = RMSNorm(self.hs, cfg["norm_eps"])
        self.k_norm = RMSNorm(self.hs, cfg["norm_eps"])
        cos, sin = rope_tables(cfg["seq_len"], self.hs, cfg["rope_base"])
        self.register_buffer("cos", cos, persistent=False)
        self.register_buffer("sin", sin, persistent=False)

    def forward(self, x):
        B, T, C = x.shape
        nh, nkv, hs = self.nh, self.nkv, self.hs
        if self.merged:
            w = self.qkvo.weight
            nq, nk = nh * hs, nkv * hs
            q = F.linear(x, w[:nq])
            k = F.linear(x, w[nq:nq + nk])
            v = F.linear(x, w[nq + nk:nq + 2 * nk])
            wo = w[nq + 2 * nk:]
        else:
            q, k, v, wo = self.q(x), self.k(x), self.v(x), self.o.weight
        q = q.view(B, T, nh, hs).transpose(1, 2)
        k = k.view(B, T, nkv, hs).transpose(1, 2)
        v = v.view(B, T, nkv, hs).transpose(1, 2)
        q = apply_rope(self.q_norm(q), self.cos, self.sin)   # QK-norm before RoPE
        k = apply_rope(self.k_norm(k), self.cos, self.sin)
        rep = nh // nkv                                       # GQA: head h reads KV head h // rep
        k = k.repeat_interleave(rep, dim=1)
        v = v.repeat_interleave(rep, dim=1)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hs))
        mask = torch.ones(T, T, dtype=torch.bool).tril()
        att = att.masked_fill(~mask, float("-inf")).softmax(-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, nh * hs)
        return F.linear(y, wo)


class FeedForward(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        C, f = cfg["d_model"], cfg["d_ff"]
        self.swiglu = cfg["ffn"] == "swiglu"
        self.up = nn.Linear(C, f, bias=False)
        self.down = nn.Linear(f, C, bias=False)
        if self.swiglu:
            self.gate = nn.Linear(C, f, bias=False)

    def forward(self, x):
        if self.swiglu:
            return self.down(F.silu(self.gate(x)) * self.up(x))
        return self.down(F.relu(self.up(x)).square())


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.attn_norm = RMSNorm(cfg["d_model"], cfg["norm_eps"])
        self.attn = Attention(cfg)
        self.ffn_norm = RMSNorm(cfg["d_model"], cfg["norm_eps"])
        self.ffn = FeedForward(cfg)

    def forward(self, x):
        x = x + self.attn(self.attn_norm(x))
        return x + self.ffn(self.ffn_norm(x))


class Model(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = dict(cfg)
        self.embed = nn.Embedding(cfg["vocab_size"], cfg["d_model"])
        self.layers = nn.ModuleList([Block(cfg) for _ in range(cfg["n_layers"])])
        self.norm = RMSNorm(cfg["d_model"], cfg["norm_eps"])
        if cfg["untied_head"]:
            self.head = nn.Linear(cfg["d_model"], cfg["vocab_size"], bias=False)

    def forward(self, tokens, targets=None):
        x = self.embed(tokens) * math.sqrt(self.cfg["d_model"])
        for layer in self.layers:
            x = layer(x)
        x = self.norm(x)
        w = self.head.weight if self.cfg["untied_head"] else self.embed.weight
        logits = F.linear(x, w)
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.view(-1, logits.shape[-1]), targets.view(-1))
        return logits, loss


def build(cfg):
    """The reference model for a config dict (see config())."""
    return Model(cfg)


def init_(model, cfg, seed):
    """N(0, init_std^2) for every matrix and the embedding, gains 1, drawn
    from torch.manual_seed(seed) in parameter order (NOT muon's stream: golden
    files carry the weights themselves)."""
    torch.manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 1:
                p.fill_(1.0)
            else:
                p.normal_(0.0, cfg["init_std"])


def weights(model):
    """{name: float32 numpy array} of every parameter; gains are 1-D (n)."""
    return {n: p.detach().cpu().numpy().astype(np.float32).copy() for n, p in model.named_parameters()}


def grads(model):
    """{name: float32 numpy array} of every parameter's .grad, same shapes."""
    return {n: p.grad.detach().cpu().numpy().astype(np.float32).copy() for n, p in model.named_parameters()}


def load(model, tensors):
    """Copies {name: array} into the parameters (gains may be (n) or (1,n));
    every parameter must be present."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            a = np.asarray(tensors[name], dtype=np.float32).reshape(p.shape)
            p.copy_(torch.from_numpy(a))


def save_safetensors(model, path, metadata=None):
    """Writes every parameter by its muon name (gains 1-D) to a safetensors
    file that muon reads (e.g. as a checkpoint's weights)."""
    import st
    st.save(path, weights(model), metadata)


def load_safetensors(model, path):
    """Loads every parameter from a safetensors file with muon's names (a
    muon checkpoint: extra tensors such as optimizer state are ignored).
    Returns the file's metadata."""
    import st
    tensors, meta = st.load(path)
    load(model, tensors)
    return meta
