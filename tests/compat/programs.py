"""PyTorch-style programs (as in the official examples and tutorials) for the compat suite: plain torch code."""

MLP_MANUAL_UPDATES = """
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(20, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = F.dropout(x, p=0.0, training=self.training)
        return F.log_softmax(self.fc2(x), dim=1)

model = Net()
model.load_state_dict({k: torch.tensor(v) for k, v in INIT.items()})
loader = DataLoader(TensorDataset(torch.tensor(DATA["x"]), torch.tensor(DATA["y"])), batch_size=16, shuffle=False)
lr = 0.1
model.train()
for epoch in range(2):
    for batch_idx, (data, target) in enumerate(loader):
        model.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        for p in model.parameters():
            p.data.add_(p.grad.data, alpha=-lr)
        LOSSES.append(loss.item())
with torch.no_grad():
    model.eval()
    correct = model(torch.tensor(DATA["x"])).argmax(dim=1, keepdim=True).eq(torch.tensor(DATA["y"]).view(-1, 1)).sum()
    LOSSES.append(correct.item())
"""

VAE_STEP = """
import torch
from torch import nn, optim
from torch.nn import functional as F

class VAE(nn.Module):
    def __init__(self):
        super(VAE, self).__init__()
        self.fc1 = nn.Linear(16, 12)
        self.fc21 = nn.Linear(12, 3)
        self.fc22 = nn.Linear(12, 3)
        self.fc3 = nn.Linear(3, 12)
        self.fc4 = nn.Linear(12, 16)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar, eps):
        std = torch.exp(0.5 * logvar)
        return mu + eps * std

    def decode(self, z):
        h3 = F.relu(self.fc3(z))
        return torch.sigmoid(self.fc4(h3))

    def forward(self, x, eps):
        mu, logvar = self.encode(x.view(-1, 16))
        z = self.reparameterize(mu, logvar, eps)
        return self.decode(z), mu, logvar

def loss_function(recon_x, x, mu, logvar):
    BCE = F.binary_cross_entropy(recon_x, x.view(-1, 16), reduction='sum')
    KLD = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return BCE + KLD

model = VAE()
model.load_state_dict({k: torch.tensor(v) for k, v in INIT.items()})
optimizer = optim.Adam(model.parameters(), lr=1e-2)
data = torch.tensor(DATA["x"])
for step in range(4):
    optimizer.zero_grad()
    recon_batch, mu, logvar = model(data, torch.tensor(DATA["eps"][step]))
    loss = loss_function(recon_batch, data, mu, logvar)
    loss.backward()
    optimizer.step()
    LOSSES.append(loss.item() / len(data))
"""

CHAR_RNN_STEP = """
import torch
import torch.nn as nn

class CharRNN(nn.Module):
    def __init__(self, vocab, hidden):
        super().__init__()
        self.embed = nn.Embedding(vocab, 8)
        self.lstm = nn.LSTM(8, hidden, num_layers=1, batch_first=True)
        self.decoder = nn.Linear(hidden, vocab)

    def forward(self, x, hidden=None):
        out, hidden = self.lstm(self.embed(x), hidden)
        return self.decoder(out.reshape(-1, out.size(2))), hidden

model = CharRNN(11, 16)
model.load_state_dict({k: torch.tensor(v) for k, v in INIT.items()})
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
inp, target = torch.LongTensor(DATA["inp"]), torch.LongTensor(DATA["target"])
hidden = None
for step in range(4):
    optimizer.zero_grad()
    output, hidden = model(inp, hidden)
    hidden = tuple(h.detach() for h in hidden)
    loss = criterion(output, target.view(-1))
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    LOSSES.append(loss.item())
"""

REGRESSION_MANUAL_SGD = """
import torch

dtype = torch.float
x = torch.tensor(DATA["x"], dtype=dtype)
y = torch.tensor(DATA["y"], dtype=dtype)
w1 = torch.tensor(INIT["w1"], dtype=dtype, requires_grad=True)
w2 = torch.tensor(INIT["w2"], dtype=dtype, requires_grad=True)
learning_rate = 1e-3
for t in range(20):
    y_pred = x.mm(w1).clamp(min=0).mm(w2)
    loss = (y_pred - y).pow(2).sum()
    LOSSES.append(loss.item())
    loss.backward()
    with torch.no_grad():
        w1 -= learning_rate * w1.grad
        w2 -= learning_rate * w2.grad
        w1.grad.zero_()
        w2.grad.zero_()
"""
