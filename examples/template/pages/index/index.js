// The one page: the shop's name from the ext config, 登录, the phone button, and who is logged in.
const app = getApp();

// A RuntimeClientError's code, in words a customer can read (the rest show the server's message).
const MESSAGES = {
  network_error: '网络不可用，请稍后再试',
  login_failed: '快手登录失败',
  merchant_not_authorized: '店铺暂未开通',
  capability_not_approved: '店铺暂未开通获取手机号',
  phone_data_invalid: '手机号授权已过期，请再点一次',
  rate_limited: '操作太频繁，请稍后再试',
};

Page({
  data: {
    shopName: '',
    theme: '#e4393c',
    openId: '',
    phone: '',
    busy: false,
    error: '',
  },

  onLoad() {
    const ext = app.globalData.ext;
    this.setData({ shopName: ext.shopName || '', theme: ext.theme || this.data.theme });
    Promise.resolve(app.ready)
      .then(() => app.runtime.sessionToken())
      .then((token) => (token ? this.refresh() : undefined))
      .catch((error) => this.showError(error));
  },

  // GET /me: the user, and the merchant's current ext (newer than the uploaded one after an ext change).
  refresh() {
    return app.runtime.me().then((me) => {
      this.setData({
        openId: me.openId,
        phone: me.phone || '',
        shopName: me.ext.shopName || me.merchant.name || this.data.shopName,
        error: '',
      });
    });
  },

  onLogin() {
    this.setData({ busy: true, error: '' });
    app.runtime
      .login()
      .then(() => this.refresh())
      .catch((error) => this.showError(error))
      .then(() => this.setData({ busy: false }));
  },

  // The getPhoneNumber button: detail has encryptedData and iv when the user agreed, only errMsg when not.
  onPhone(event) {
    const detail = (event && event.detail) || {};
    if (!detail.encryptedData || !detail.iv) {
      this.showError({ message: detail.errMsg || '未授权手机号' });
      return;
    }
    app.runtime
      .bindPhone({ encryptedData: detail.encryptedData, iv: detail.iv })
      .then((number) => this.setData({ phone: number.purePhoneNumber, error: '' }))
      .catch((error) => this.showError(error));
  },

  onLogout() {
    app.runtime
      .logout()
      .catch(() => undefined) // the token is forgotten even when the call failed
      .then(() => this.setData({ openId: '', phone: '', error: '' }));
  },

  showError(error) {
    const message = (error && MESSAGES[error.code]) || (error && error.message) || String(error);
    this.setData({ error: message });
    ks.showToast({ title: message, icon: 'none' });
  },
});
