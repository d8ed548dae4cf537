"""Compat programs in the style of course notebooks: a character-level GPT written from scratch (tril mask buffer,
heads in a ModuleList, ``einsum`` with an ellipsis, AdamW) and a hand-written label-smoothed cross-entropy (one-hot
with ``scatter_``, ``gather``, ``scatter_add_``, ``scatter_reduce``, ``//`` and ``%``); small sizes, synthetic
data, weights from ``load_init``."""

__all__ = ["GPT_FROM_SCRATCH", "MANUAL_CROSS_ENTROPY"]

GPT_FROM_SCRATCH = """
import numpy as np
import torch
import torch.nn as nn
from torch.nn import functional as F

batch_size, block_size, n_embd, n_head, n_layer, dropout = 4, 8, 16, 2, 2, 0.0
text = 'hello world, this is a tiny corpus for a tiny transformer model. ' * 4
chars = sorted(list(set(text)))
vocab_size = len(chars)
stoi = {ch: i for i, ch in enumerate(chars)}
encode = lambda s: [stoi[c] for c in s]
data = torch.tensor(encode(text), dtype=torch.long)
n = int(0.9 * len(data))
train_data, val_data = data[:n], data[n:]
rng = np.random.default_rng(16)

def get_batch(split):
    data = train_data if split == 'train' else val_data
    ix = torch.from_numpy(rng.integers(0, len(data) - block_size, (batch_size,)))
    x = torch.stack([data[i:i+block_size] for i in ix])
    y = torch.stack([data[i+1:i+block_size+1] for i in ix])
    return x, y

class Head(nn.Module):
    def __init__(self, head_size):
        super().__init__()
        self.key = nn.Linear(n_embd, head_size, bias=False)
        self.query = nn.Linear(n_embd, head_size, bias=False)
        self.value = nn.Linear(n_embd, head_size, bias=False)
        self.register_buffer('tril', torch.tril(torch.ones(block_size, block_size)))
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        B, T, C = x.shape
        k = self.key(x)
        q = self.query(x)
        wei = torch.einsum('...td,...sd->...ts', q, k) * k.shape[-1]**-0.5
        wei = wei.masked_fill(self.tril[:T, :T] == 0, float('-inf'))
        wei = F.softmax(wei, dim=-1)
        wei = self.dropout(wei)
        v = self.value(x)
        out = wei @ v
        return out

class MultiHeadAttention(nn.Module):
    def __init__(self, num_heads, head_size):
        super().__init__()
        self.heads = nn.ModuleList([Head(head_size) for _ in range(num_heads)])
        self.proj = nn.Linear(head_size * num_heads, n_embd)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        out = torch.cat([h(x) for h in self.heads], dim=-1)
        out = self.dropout(self.proj(out))
        return out

class FeedFoward(nn.Module):
    def __init__(self, n_embd):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(n_embd, 4 * n_embd), nn.ReLU(), nn.Linear(4 * n_embd, n_embd),
                                 nn.Dropout(dropout))

    def forward(self, x):
        return self.net(x)

class Block(nn.Module):
    def __init__(self, n_embd, n_head):
        super().__init__()
        head_size = n_embd // n_head
        self.sa = MultiHeadAttention(n_head, head_size)
        self.ffwd = FeedFoward(n_embd)
        self.ln1 = nn.LayerNorm(n_embd)
        self.ln2 = nn.LayerNorm(n_embd)

    def forward(self, x):
        x = x + self.sa(self.ln1(x))
        x = x + self.ffwd(self.ln2(x))
        return x

class GPTLanguageModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.token_embedding_table = nn.Embedding(vocab_size, n_embd)
        self.position_embedding_table = nn.Embedding(block_size, n_embd)
        self.blocks = nn.Sequential(*[Block(n_embd, n_head=n_head) for _ in range(n_layer)])
        self.ln_f = nn.LayerNorm(n_embd)
        self.lm_head = nn.Linear(n_embd, vocab_size)

    def forward(self, idx, targets=None):
        B, T = idx.shape
        tok_emb = self.token_embedding_table(idx)
        pos_emb = self.position_embedding_table(torch.arange(T))
        x = tok_emb + pos_emb
        x = self.blocks(x)
        x = self.ln_f(x)
        logits = self.lm_head(x)
        if targets is None:
            loss = None
        else:
            B, T, C = logits.shape
            logits = logits.view(B*T, C)
            targets = targets.view(B*T)
            loss = F.cross_entropy(logits, targets)
        return logits, loss

    def generate(self, idx, max_new_tokens):
        for _ in range(max_new_tokens):
            idx_cond = idx[:, -block_size:]
            logits, loss = self(idx_cond)
            logits = logits[:, -1, :]
            probs = F.softmax(logits, dim=-1)
            idx_next = torch.argmax(probs, dim=-1, keepdim=True)
            idx = torch.cat((idx, idx_next), dim=1)
        return idx

model = load_init(GPTLanguageModel())
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
for iter in range(4):
    xb, yb = get_batch('train')
    logits, loss = model(xb, yb)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    LOSSES.append(loss.item())

@torch.no_grad()
def estimate_loss():
    model.eval()
    X, Y = get_batch('val')
    logits, loss = model(X, Y)
    model.train()
    return loss.item()

LOSSES.append(estimate_loss())
LOSSES.append(float(model.generate(torch.zeros((1, 1), dtype=torch.long), max_new_tokens=5).sum()))
"""

MANUAL_CROSS_ENTROPY = """
import numpy as np
import torch
import torch.nn as nn

def smoothed_cross_entropy(logits, target, smoothing=0.1, weight=None):
    n_classes = logits.size(-1)
    log_probs = logits.log_softmax(dim=-1)
    with torch.no_grad():
        true_dist = torch.zeros_like(log_probs)
        true_dist.fill_(smoothing / (n_classes - 1))
        true_dist.scatter_(1, target.unsqueeze(1), 1.0 - smoothing)
    loss = torch.sum(-true_dist * log_probs, dim=-1)
    picked = log_probs.gather(1, target.unsqueeze(1)).squeeze(1)
    if weight is not None:
        loss = loss * weight[target]
    return loss.mean(), -picked.mean()

rng = np.random.default_rng(17)
grid = 4
x = torch.tensor(rng.standard_normal((24, 6)), dtype=torch.float32)
cells = torch.tensor(rng.integers(0, grid * grid, 24))
rows, cols = cells // grid, cells % grid
target = (rows + cols) % 5
counts = torch.zeros(5).scatter_add_(0, target, torch.ones(24))
weight = counts.sum() / (5 * counts.clamp(min=1))
model = load_init(nn.Sequential(nn.Linear(6, 12), nn.GELU(), nn.Linear(12, 5)))
optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
for step in range(6):
    optimizer.zero_grad()
    logits = model(x)
    loss, nll = smoothed_cross_entropy(logits, target, weight=weight)
    loss.backward()
    optimizer.step()
    LOSSES.extend([loss.item(), nll.item()])
    per_class = torch.zeros(5).scatter_reduce(0, target, logits.detach().max(1).values, reduce='amax',
                                              include_self=False)
    LOSSES.append(per_class.sum().item())
LOSSES.append(torch.div(cells, grid, rounding_mode='floor').sum().item())
"""
