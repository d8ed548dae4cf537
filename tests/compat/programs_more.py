"""Compat programs in the style of the char-RNN classification tutorial and the pytorch/examples regression,
reinforce and actor-critic scripts (``torch.distributions.Categorical``, ``smooth_l1_loss``): plain torch code,
small sizes, few steps, synthetic data (fixed actions in place of sampled ones), weights from ``load_init``."""

__all__ = ["CHAR_RNN_CLASSIFICATION", "POLY_REGRESSION", "REINFORCE", "ACTOR_CRITIC"]

CHAR_RNN_CLASSIFICATION = """
import string
import torch
import torch.nn as nn

all_letters = string.ascii_letters + " .,;'"
n_letters = len(all_letters)
all_categories = ['English', 'French', 'Greek']
n_categories = len(all_categories)

def letterToIndex(letter):
    return all_letters.find(letter)

def lineToTensor(line):
    tensor = torch.zeros(len(line), 1, n_letters)
    for li, letter in enumerate(line):
        tensor[li][0][letterToIndex(letter)] = 1
    return tensor

class RNN(nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super(RNN, self).__init__()
        self.hidden_size = hidden_size
        self.i2h = nn.Linear(input_size + hidden_size, hidden_size)
        self.h2o = nn.Linear(hidden_size, output_size)
        self.softmax = nn.LogSoftmax(dim=1)

    def forward(self, input, hidden):
        combined = torch.cat((input, hidden), 1)
        hidden = torch.tanh(self.i2h(combined))
        output = self.h2o(hidden)
        output = self.softmax(output)
        return output, hidden

    def initHidden(self):
        return torch.zeros(1, self.hidden_size)

def categoryFromOutput(output):
    top_n, top_i = output.topk(1)
    category_i = top_i[0].item()
    return all_categories[category_i], category_i

rnn = load_init(RNN(n_letters, 16, n_categories))
criterion = nn.NLLLoss()
learning_rate = 0.005
examples = [('Smith', 'English'), ('Dubois', 'French'), ('Papadopoulos', 'Greek'), ("O'Neal", 'English')]

def train(category_tensor, line_tensor):
    hidden = rnn.initHidden()
    rnn.zero_grad()
    for i in range(line_tensor.size()[0]):
        output, hidden = rnn(line_tensor[i], hidden)
    loss = criterion(output, category_tensor)
    loss.backward()
    for p in rnn.parameters():
        p.data.add_(p.grad.data, alpha=-learning_rate)
    return output, loss.item()

for epoch in range(2):
    for line, category in examples:
        category_tensor = torch.tensor([all_categories.index(category)], dtype=torch.long)
        output, loss = train(category_tensor, lineToTensor(line))
        LOSSES.append(loss)
        LOSSES.append(categoryFromOutput(output)[1])
"""

POLY_REGRESSION = """
import numpy as np
import torch
import torch.nn.functional as F

POLY_DEGREE = 4
W_target = torch.tensor(np.random.default_rng(12).standard_normal((POLY_DEGREE, 1)) * 5, dtype=torch.float32)
b_target = torch.tensor(np.random.default_rng(13).standard_normal(1) * 5, dtype=torch.float32)

def make_features(x):
    x = x.unsqueeze(1)
    return torch.cat([x ** i for i in range(1, POLY_DEGREE+1)], 1)

def f(x):
    return x.mm(W_target) + b_target.item()

rng = np.random.default_rng(14)
def get_batch(batch_size=32):
    random = torch.from_numpy(rng.standard_normal(batch_size).astype(np.float32))
    x = make_features(random)
    y = f(x)
    return x, y

fc = load_init(torch.nn.Linear(W_target.size(0), 1))
for batch_idx in range(1, 30):
    batch_x, batch_y = get_batch()
    fc.zero_grad()
    output = F.smooth_l1_loss(fc(batch_x), batch_y)
    loss = output.item()
    output.backward()
    for param in fc.parameters():
        param.data.add_(-0.01 * param.grad)
    LOSSES.append(loss)
"""

REINFORCE = """
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.distributions import Categorical

class Policy(nn.Module):
    def __init__(self):
        super(Policy, self).__init__()
        self.affine1 = nn.Linear(4, 16)
        self.dropout = nn.Dropout(p=0.0)
        self.affine2 = nn.Linear(16, 2)
        self.saved_log_probs = []
        self.rewards = []

    def forward(self, x):
        x = self.affine1(x)
        x = self.dropout(x)
        x = F.relu(x)
        action_scores = self.affine2(x)
        return F.softmax(action_scores, dim=1)

policy = load_init(Policy())
optimizer = optim.Adam(policy.parameters(), lr=1e-2)
eps = np.finfo(np.float32).eps.item()
gamma = 0.99
rng = np.random.default_rng(15)

def select_action(state, action):
    state = torch.from_numpy(state).float().unsqueeze(0)
    probs = policy(state)
    m = Categorical(probs)
    policy.saved_log_probs.append(m.log_prob(torch.tensor([action])))
    LOSSES.append(m.entropy().item())
    return action

def finish_episode():
    R = 0
    policy_loss = []
    returns = []
    for r in policy.rewards[::-1]:
        R = r + gamma * R
        returns.insert(0, R)
    returns = torch.tensor(returns)
    returns = (returns - returns.mean()) / (returns.std() + eps)
    for log_prob, R in zip(policy.saved_log_probs, returns):
        policy_loss.append(-log_prob * R)
    optimizer.zero_grad()
    policy_loss = torch.cat(policy_loss).sum()
    policy_loss.backward()
    optimizer.step()
    LOSSES.append(policy_loss.item())
    del policy.rewards[:]
    del policy.saved_log_probs[:]

for i_episode in range(3):
    for t in range(5):
        select_action(rng.standard_normal(4), int(rng.integers(0, 2)))
        policy.rewards.append(float(rng.random()))
    finish_episode()
"""

ACTOR_CRITIC = """
from collections import namedtuple
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.distributions import Categorical

SavedAction = namedtuple('SavedAction', ['log_prob', 'value'])

class Policy(nn.Module):
    def __init__(self):
        super(Policy, self).__init__()
        self.affine1 = nn.Linear(4, 16)
        self.action_head = nn.Linear(16, 2)
        self.value_head = nn.Linear(16, 1)
        self.saved_actions = []
        self.rewards = []

    def forward(self, x):
        x = F.relu(self.affine1(x))
        action_prob = F.softmax(self.action_head(x), dim=-1)
        state_values = self.value_head(x)
        return action_prob, state_values

model = load_init(Policy())
optimizer = optim.Adam(model.parameters(), lr=3e-2)
eps = np.finfo(np.float32).eps.item()
gamma = 0.99
rng = np.random.default_rng(18)

def select_action(state, action):
    state = torch.from_numpy(state).float()
    probs, state_value = model(state)
    m = Categorical(probs)
    action = torch.tensor(action)
    model.saved_actions.append(SavedAction(m.log_prob(action), state_value))
    return action.item()

def finish_episode():
    R = 0
    saved_actions = model.saved_actions
    policy_losses = []
    value_losses = []
    returns = []
    for r in model.rewards[::-1]:
        R = r + gamma * R
        returns.insert(0, R)
    returns = torch.tensor(returns)
    returns = (returns - returns.mean()) / (returns.std() + eps)
    for (log_prob, value), R in zip(saved_actions, returns):
        advantage = R - value.item()
        policy_losses.append(-log_prob * advantage)
        value_losses.append(F.smooth_l1_loss(value, torch.tensor([R])))
    optimizer.zero_grad()
    loss = torch.stack(policy_losses).sum() + torch.stack(value_losses).sum()
    loss.backward()
    optimizer.step()
    LOSSES.append(loss.item())
    del model.rewards[:]
    del model.saved_actions[:]

for i_episode in range(3):
    for t in range(6):
        select_action(rng.standard_normal(4), int(rng.integers(0, 2)))
        model.rewards.append(float(rng.random()))
    finish_episode()
"""
